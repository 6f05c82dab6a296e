package fleet

import (
	"context"
	"path"
	"reflect"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// mounts are the agent's mounts, in order: the workspace (read-only in read-only mode), the
// writable directories read-only mode allows, the folder it exposes, the folders it consumes.
func (s *Service) mounts(ctx context.Context, a *Agent) ([]sandbox.Mount, error) {
	ws := s.opts.Workspace
	out := []sandbox.Mount{{Volume: a.WorkspaceVolume, Destination: ws, ReadOnly: a.ReadOnly.Enabled}}
	if a.ReadOnly.Enabled {
		seen := map[string]bool{}
		for _, p := range a.ReadOnly.AllowedPatterns {
			if d, ok := WritableDir(p); ok && !seen[d] {
				seen[d] = true
				out = append(out, sandbox.Mount{Volume: a.WorkspaceVolume, SubPath: d, Destination: path.Join(ws, d)})
			}
		}
	}
	if a.Folders.Expose {
		out = append(out, sandbox.Mount{Volume: a.SharedVolume(), Destination: path.Join(ws, "shared-out")})
	}
	if a.Folders.Consume {
		producers, err := s.producersFor(ctx, a)
		if err != nil {
			return nil, err
		}
		for _, p := range producers {
			out = append(out, sandbox.Mount{Volume: p.SharedVolume(), Destination: path.Join(ws, "shared-in", p.Name), ReadOnly: true})
		}
	}
	return out, nil
}

// remount gives a stopped sandbox the agent's current mounts when they changed.
func (s *Service) remount(ctx context.Context, a *Agent, sb *sandbox.Sandbox) error {
	mounts, err := s.mounts(ctx, a)
	if err != nil {
		return err
	}
	if reflect.DeepEqual(mounts, sb.Instance.Mounts) {
		return nil
	}
	if err := s.m.SetMounts(manager.AsSystem(ctx), a.SandboxID, mounts); err != nil {
		return err
	}
	s.dropOrphanFolders(ctx, sb.Instance.Mounts, mounts)
	return nil
}

// dropOrphanFolders deletes the shared folders of deleted producers that this remount no
// longer mounts: Delete keeps a folder that a consumer still mounted. Another consumer may
// still mount it; then it stays until that one remounts too.
func (s *Service) dropOrphanFolders(ctx context.Context, before, after []sandbox.Mount) {
	kept := map[string]bool{}
	for _, m := range after {
		kept[m.Volume] = true
	}
	for _, m := range before {
		id, ok := strings.CutPrefix(m.Volume, "sh-")
		if !ok || kept[m.Volume] {
			continue
		}
		if _, err := s.store.GetAgent(ctx, id); !errdefs.IsNotFound(err) {
			continue
		}
		if err := s.m.DeleteVolume(manager.AsSystem(ctx), m.Volume); err != nil {
			s.log.Info("shared folder of a deleted agent still mounted elsewhere", "volume", m.Volume, "err", err)
		}
	}
}
