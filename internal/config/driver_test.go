package config

import (
	"strings"
	"testing"
)

// TestDriverSettings: the kube driver's settings come from flags, env and file alike, and
// Validate names what is missing or malformed.
func TestDriverSettings(t *testing.T) {
	kube := []string{"--driver", "kube", "--kube-guest-image", "g:1", "--kube-base-image", "b:1"}
	t.Setenv("PADDOCK_KUBE_NODE_SELECTOR", "pool=sandboxes")
	c, err := load(t, `{"kube_tolerations": ["sandbox=true:NoSchedule", "gpu"]}`, kube...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid kube settings: %v", err)
	}
	if c.Driver != "kube" || c.KubeNamespace != "paddock" || c.KubeRequestPercent != 100 ||
		len(c.KubeNodeSelector) != 1 || len(c.KubeTolerations) != 2 || c.KubeStorageClass != "" ||
		c.KubeVolumeAccessMode != "ReadWriteOnce" || c.KubeVolumeMB != 10240 {
		t.Errorf("settings = %+v", c)
	}
	c, err = load(t, `{"kube_storage_class": "fast", "kube_volume_access_mode": "ReadWriteMany", "kube_volume_size_mb": 512}`, kube...)
	if err != nil || c.Validate() != nil || c.KubeStorageClass != "fast" || c.KubeVolumeAccessMode != "ReadWriteMany" || c.KubeVolumeMB != 512 {
		t.Errorf("volume settings from the config file: %q %q %d, %v, %v", c.KubeStorageClass, c.KubeVolumeAccessMode, c.KubeVolumeMB, err, c.Validate())
	}
	c, err = load(t, `{"kube_placements": {"gpu": {"runtime_class": "kata"}}}`, kube...)
	if err != nil || c.Validate() != nil || !strings.Contains(c.KubePlacements, `"kata"`) {
		t.Errorf("placements from the config file: %q, %v, %v", c.KubePlacements, err, c.Validate())
	}
	if c, _ := load(t, ""); c.Driver != "runc" || c.Validate() != nil {
		t.Errorf("default driver %q, validate %v", c.Driver, c.Validate())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--driver", "docker"}, "driver"},
		{[]string{"--driver", "kube", "--kube-base-image", "b:1"}, "kube-guest-image"},
		{[]string{"--driver", "kube", "--kube-guest-image", "g:1"}, "kube-base-image"},
		{append(kube, "--kube-namespace", ""), "kube-namespace"},
		{append(kube, "--kube-request-percent", "0"), "kube-request-percent"},
		{append(kube, "--kube-node-selector", "novalue"), "kube-node-selector"},
		{append(kube, "--kube-tolerations", "a:Sometimes"), "kube-tolerations"},
		{append(kube, "--kube-placements", `{"gpu": {"runtime_class": 3}}`), "kube-placements"},
		{append(kube, "--kube-storage-class", "Not_A_Class"), "kube-storage-class"},
		{append(kube, "--kube-volume-access-mode", "ReadOnlyMany"), "kube-volume-access-mode"},
		{append(kube, "--kube-volume-size-mb", "0"), "kube-volume-size-mb"},
	} {
		c, err := load(t, "", tc.args...)
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}
