package image

import (
	"maps"
	"slices"
	"testing"
)

func TestLowerDirsIn(t *testing.T) {
	info := `26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
297 150 0:40 / /data/sandboxes/abc/bundle/rootfs rw,nodev,relatime - overlay overlay rw,lowerdir=../../../../images/oci/layers/l2:../../../../images/base/v3/rootfs,upperdir=../../upper,workdir=../../work,uuid=on
298 150 0:41 / /old/rootfs rw,relatime - overlay overlay rw,lowerdir=/abs/one:/abs/with\040space,upperdir=/u,workdir=/w
299 150 0:42 / /sp\040ace/b/rootfs rw,relatime - overlay overlay rw,lowerdir=../layer
300 150 0:43 / /tmp rw - tmpfs tmpfs rw,lowerdir=/not/an/overlay
`
	got := slices.Sorted(maps.Keys(lowerDirsIn(info)))
	want := []string{"/abs/one", "/abs/with space", "/data/images/base/v3/rootfs", "/data/images/oci/layers/l2", "/sp ace/b/layer"}
	if !slices.Equal(got, want) {
		t.Errorf("lowerDirsIn = %q, want %q", got, want)
	}
}
