package objects

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// walkLocal adds every regular file under root. Symbolic links are not
// followed (WalkDir reports them without descending): a link into the tree
// would count its bytes twice, and a link to an ancestor would never end.
// The root itself may be a link, which is resolved first.
func walkLocal(ctx context.Context, root string, s *Snapshot) error {
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("walk %s: not a directory", root)
	}
	var links int
	err = filepath.WalkDir(resolved, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", path, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			links++
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("walk %s: %w", path, err)
		}
		// Objects carry the path the IO manager wrote, under the root as
		// configured, not the link's target.
		key := path
		if resolved != root {
			if rel, err := filepath.Rel(resolved, path); err == nil {
				key = filepath.Join(root, rel)
			}
		}
		return s.Add(Object{Key: filepath.ToSlash(key), Size: fi.Size(), LastModified: fi.ModTime().UTC(), IsLatest: true})
	})
	if links > 0 {
		s.Logger().Info("objects: symbolic links not followed", "root", root, "links", links)
	}
	return err
}
