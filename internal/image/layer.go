package image

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/paddock/paddock/internal/errdefs"
)

// errNotEmpty is what renaming a directory onto a non-empty one fails with.
var errNotEmpty = syscall.ENOTEMPTY

// fetchLayer unpacks one layer into its directory unless it is there already, checking its
// content against diffID; nothing partial is kept on failure. open returns the uncompressed
// layer stream. The caller holds the store lock shared.
func (s *ociStore) fetchLayer(diffID string, open func() (io.ReadCloser, error)) error {
	if _, err := os.Stat(s.layerDir(diffID)); err == nil {
		return nil
	}
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = s.storeLayer(rc, diffID)
	if v, ok := rc.(interface{ verify() error }); ok && err != nil {
		// Corrupt content fails decompression or tar parsing before the blob's own check
		// at its end: report the digest mismatch when that is the cause.
		if verr := v.verify(); verr != nil {
			err = verr
		}
	}
	return err
}

// storeLayer unpacks an uncompressed layer stream into layers/<diff ID> and returns the
// diff ID. With want set, content that hashes otherwise is rejected; with want empty (root
// filesystems being imported) the content names the layer. An existing layer of that diff
// ID is kept and the new copy dropped.
func (s *ociStore) storeLayer(r io.Reader, want string) (string, error) {
	parent := filepath.Join(s.dir, "layers")
	tmp, err := os.MkdirTemp(parent, ".unpack-")
	if err != nil {
		return "", diskError(err, "unpack layer")
	}
	got, err := unpackLayer(r, tmp)
	if err == nil && want != "" && got != want {
		err = errdefs.InvalidArgument("layer digest mismatch: content is %s, the image says %s", got, want)
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err == nil {
		if err = os.Rename(tmp, s.layerDir(got)); err != nil && (errors.Is(err, os.ErrExist) || errors.Is(err, errNotEmpty)) {
			err = nil // another pull finished it first
		}
	}
	if rmErr := os.RemoveAll(tmp); rmErr != nil && err == nil {
		err = rmErr
	}
	if err != nil {
		return "", diskError(err, "unpack layer")
	}
	return got, nil
}
