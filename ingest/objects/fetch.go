package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// remoteBucket reads the objects of one bucket or container that an
// inventory report was delivered to.
type remoteBucket interface {
	// url names an object in messages: gs://bucket/key, az://container/blob.
	url(key string) string
	// open returns an object's body, which the caller closes. The error
	// names the bucket and the object; for a missing one it matches
	// fs.ErrNotExist (a *notFoundError).
	open(ctx context.Context, key string) (io.ReadCloser, error)
}

// notFoundError is a missing remote object. It matches fs.ErrNotExist, so
// a missing report is a source that is down, as a missing local copy is,
// and keeps the provider's error reachable below it.
type notFoundError struct {
	msg string
	err error
}

func (e *notFoundError) Error() string   { return e.msg }
func (e *notFoundError) Unwrap() []error { return []error{fs.ErrNotExist, e.err} }

// reportCopy is a temporary directory laid out as a bucket is, into which
// a remote inventory report is fetched so that the local readers (and
// DuckDB's read_csv / read_parquet) read it as they read a synced copy.
type reportCopy struct {
	dir string
	s   *Snapshot
}

// remoteFetcher copies the report a remote location names into c and
// returns the key (relative to the bucket) of what the local reader should
// read: the manifest, a shard, or a prefix.
type remoteFetcher func(ctx context.Context, src Source, c *reportCopy) (string, error)

// localInventory returns where src's report is on disk: its own location
// for a local copy, or a temporary copy fetched from the store, which
// cleanup removes.
func localInventory(ctx context.Context, src Source, s *Snapshot) (loc string, cleanup func(), err error) {
	if !src.remote() {
		return localRoot(src.Location), func() {}, nil
	}
	var fetch remoteFetcher
	switch src.Kind {
	case KindS3Inventory:
		fetch = fetchS3Inventory
	case KindGCSInventory:
		fetch = fetchGCSInventory
	case KindAzureInventory:
		fetch = fetchAzureInventory
	default:
		return "", nil, fmt.Errorf("%s: no remote reader", src.Kind)
	}
	dir, err := os.MkdirTemp("", "matlens-"+string(src.Kind)+"-")
	if err != nil {
		return "", nil, err
	}
	c := &reportCopy{dir: dir, s: s}
	cleanup = func() { os.RemoveAll(dir) }
	key, err := fetch(ctx, src, c)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	p, err := c.path(key)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return p, cleanup, nil
}

// path is where key is in the copy. A key that would land outside it
// (../, an absolute path) is refused: keys come from manifests, which are
// data.
func (c *reportCopy) path(key string) (string, error) {
	if key == "" {
		return c.dir, nil
	}
	if err := checkReportName(key); err != nil {
		return "", err
	}
	return filepath.Join(c.dir, filepath.FromSlash(key)), nil
}

// fetch copies one object to its place in the copy.
func (c *reportCopy) fetch(ctx context.Context, b remoteBucket, key string) error {
	dst, err := c.path(key)
	if err != nil {
		return fmt.Errorf("%s: %w", b.url(key), err)
	}
	body, err := b.open(ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	fh, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(fh, body); err != nil {
		fh.Close()
		return fmt.Errorf("%s: %w", b.url(key), err)
	}
	return fh.Close()
}

// fetchOptional copies an object that may be absent (a checksum file).
func (c *reportCopy) fetchOptional(ctx context.Context, b remoteBucket, key string) error {
	if err := c.fetch(ctx, b, key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// fetchAll copies a report's data files, logging each.
func (c *reportCopy) fetchAll(ctx context.Context, b remoteBucket, keys []string) error {
	for i, k := range keys {
		if err := c.fetch(ctx, b, k); err != nil {
			return err
		}
		c.s.Logger().Info("objects: fetched inventory file", "url", b.url(k), "done", i+1, "of", len(keys))
	}
	return nil
}

// fetchReport copies a manifest, the checksum file beside it when there is
// one (checksumKey "" for none) and the data files that files, given the
// manifest's bytes, says it lists.
func (c *reportCopy) fetchReport(ctx context.Context, b remoteBucket, manifestKey, checksumKey string,
	files func(manifest []byte) ([]string, error),
) error {
	if err := c.fetch(ctx, b, manifestKey); err != nil {
		return err
	}
	if checksumKey != "" {
		if err := c.fetchOptional(ctx, b, checksumKey); err != nil {
			return err
		}
	}
	p, err := c.path(manifestKey)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	keys, err := files(body)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return c.fetchAll(ctx, b, keys)
}

// newestKey returns the greatest of keys that end with suffix, "" for
// none: inventory runs and reports are named by their UTC time, so the
// greatest is the newest, as newestMatch picks it in a local copy.
func newestKey(keys []string, suffix string) string {
	newest := ""
	for _, k := range keys {
		if strings.HasSuffix(k, suffix) && k > newest {
			newest = k
		}
	}
	return newest
}
