package image

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.ImageManager = (*Resolver)(nil)

// ListImages implements sandbox.ImageManager: the built-in images and every stored one.
func (r *Resolver) ListImages(context.Context) ([]sandbox.ImageInfo, error) {
	out := []sandbox.ImageInfo{}
	for ref, img := range r.builtins {
		out = append(out, sandbox.ImageInfo{Ref: ref, Layers: append([]string(nil), img.Layers...)})
	}
	recs, err := r.oci.records()
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		img := r.oci.image(rec)
		out = append(out, sandbox.ImageInfo{Ref: rec.Ref, Digest: rec.Digest, Layers: img.Layers})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// RemoveImage implements sandbox.ImageManager. Built-in images cannot be removed.
func (r *Resolver) RemoveImage(ctx context.Context, ref string, inUse map[string]bool) error {
	if _, ok := r.builtins[ref]; ok {
		return errdefs.InvalidArgument("%q is built in and cannot be removed", ref)
	}
	unlock, err := r.oci.lockStore(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(refFile(r.oci.dir, ref)); err != nil {
		if os.IsNotExist(err) {
			return errdefs.NotFound("image %q not found", ref)
		}
		return err
	}
	_, err = r.oci.prune(inUse)
	return err
}

// PruneImages implements sandbox.ImageManager: it removes every layer no image references
// and neither inUse nor any mounted overlay uses, and what failed pulls and imports left.
func (r *Resolver) PruneImages(ctx context.Context, inUse map[string]bool) (sandbox.PruneReport, error) {
	unlock, err := r.oci.lockStore(ctx, true)
	if err != nil {
		return sandbox.PruneReport{}, err
	}
	defer unlock()
	return r.oci.prune(inUse)
}

// prune removes unreferenced layers and leftovers; the caller holds the store lock
// exclusively, so no pull or import is between unpacking a layer and recording it.
func (s *ociStore) prune(inUse map[string]bool) (sandbox.PruneReport, error) {
	rep := sandbox.PruneReport{Layers: []string{}}
	keep := map[string]bool{}
	for k := range inUse {
		keep[k] = true
	}
	mounted, err := mountedLowerDirs()
	if err != nil {
		return rep, err
	}
	for k := range mounted {
		keep[k] = true
	}
	recs, err := s.records()
	if err != nil {
		return rep, err
	}
	for _, rec := range recs {
		for _, l := range s.image(rec).Layers {
			keep[l] = true
		}
	}
	// Overlays mounted with relative lower dirs are resolved to paths without symlinks.
	realDir, err := filepath.EvalSymlinks(s.dir)
	if err != nil {
		return rep, err
	}
	for _, sub := range []string{"layers", "tmp"} {
		ents, err := os.ReadDir(filepath.Join(s.dir, sub))
		if err != nil && !os.IsNotExist(err) {
			return rep, err
		}
		for _, e := range ents {
			p := filepath.Join(s.dir, sub, e.Name())
			if keep[p] || keep[filepath.Join(realDir, sub, e.Name())] {
				continue
			}
			size := diskUsage(p)
			if err := os.RemoveAll(p); err != nil {
				return rep, err
			}
			rep.Bytes += size
			if sub == "layers" && !strings.HasPrefix(e.Name(), ".") {
				rep.Layers = append(rep.Layers, p)
			}
		}
	}
	ents, err := os.ReadDir(filepath.Join(s.dir, "refs"))
	if err != nil {
		return rep, err
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			_ = os.Remove(filepath.Join(s.dir, "refs", e.Name()))
		}
	}
	return rep, nil
}

// diskUsage adds up the sizes of the regular files under p (hardlinks counted once).
func diskUsage(p string) int64 {
	var n int64
	seen := map[uint64]bool{}
	_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if ino, ok := inode(fi); ok {
			if seen[ino] {
				return nil
			}
			seen[ino] = true
		}
		n += fi.Size()
		return nil
	})
	return n
}

// mountedLowerDirs lists the lower dirs of every overlay mounted on this host (as this
// process sees it): layers that sandboxes of other engines sharing the data dir (one-shot
// `paddock run`) are running on, even though this engine's store does not know them.
func mountedLowerDirs() (map[string]bool, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return lowerDirsIn(string(b)), nil
}

// lowerDirsIn lists the lower dirs of the overlays in a mountinfo text. Relative ones (the
// runc driver names them relative to the mount point, to keep host paths out of a
// sandbox's mountinfo) are resolved against the mount point.
func lowerDirsIn(mountinfo string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f := strings.Fields(post) // fstype source superoptions
		mp := strings.Fields(pre) // id parent dev root mountpoint ...
		if len(f) < 3 || f[0] != "overlay" || len(mp) < 5 {
			continue
		}
		for _, opt := range strings.Split(f[2], ",") {
			if v, ok := strings.CutPrefix(opt, "lowerdir="); ok {
				for _, d := range strings.Split(v, ":") {
					d = unescapeMountinfo(d)
					if !filepath.IsAbs(d) {
						d = filepath.Join(unescapeMountinfo(mp[4]), d)
					}
					out[d] = true
				}
			}
		}
	}
	return out
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			v := (int(s[i+1]-'0') << 6) | (int(s[i+2]-'0') << 3) | int(s[i+3]-'0')
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// records reads every refs/*.json.
func (s *ociStore) records() ([]record, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "refs"))
	if err != nil {
		return nil, err
	}
	var out []record
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "refs", e.Name()))
		if err != nil {
			continue
		}
		var rec record
		if json.Unmarshal(b, &rec) == nil {
			out = append(out, rec)
		}
	}
	return out, nil
}
