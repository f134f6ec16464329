package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

// fetchGCSInventory copies a Storage Insights report from its destination
// bucket into c. The location is gs://bucket/…/<config>_<time>_manifest.json
// (the manifest and the shards it lists beside it), one shard, or a
// prefix: the newest manifest under it, or, with none, every shard under
// it, as the local reader reads a directory.
func fetchGCSInventory(ctx context.Context, src Source, c *reportCopy) (key string, err error) {
	_, bucket, key, err := splitBucketURL(string(src.Kind), src.Location)
	if err != nil {
		return "", err
	}
	client, err := newGCSClient(ctx, src)
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, client.Close()) }()
	b := gcsBucket{handle: client.Bucket(bucket), bucket: bucket}

	switch {
	case strings.HasSuffix(key, "_manifest.json"):
	case isGCSShard(key):
		return key, c.fetch(ctx, b, key)
	default:
		keys, err := b.list(ctx, key)
		if err != nil {
			return "", err
		}
		if manifest := newestKey(keys, "_manifest.json"); manifest != "" {
			key = manifest
			break
		}
		var shards []string
		for _, k := range keys {
			if isGCSShard(k) {
				shards = append(shards, k)
			}
		}
		if len(shards) == 0 {
			return "", fmt.Errorf("%s: no *_manifest.json and no .csv or .parquet shards under this prefix", b.url(key))
		}
		// The local reader reads every shard of the directory the prefix
		// names.
		return gcsPrefixDir(key), c.fetchAll(ctx, b, shards)
	}
	// Shards sit beside the manifest.
	return key, c.fetchReport(ctx, b, key, "", func(body []byte) ([]string, error) {
		_, names, err := parseGCSManifest(body)
		keys := make([]string, len(names))
		for i, n := range names {
			keys[i] = path.Join(path.Dir(key), n)
		}
		return keys, err
	})
}

// gcsPrefixDir is the directory part of a listing prefix: "reports/" and
// "reports/3f1c" both read as "reports".
func gcsPrefixDir(prefix string) string {
	if strings.HasSuffix(prefix, "/") {
		return strings.TrimSuffix(prefix, "/")
	}
	if d := path.Dir(prefix); d != "." {
		return d
	}
	return ""
}

// gcsBucket reads a report's destination bucket.
type gcsBucket struct {
	handle *storage.BucketHandle
	bucket string
}

func (b gcsBucket) url(key string) string { return "gs://" + b.bucket + "/" + key }

func (b gcsBucket) open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := b.handle.Object(key).NewReader(ctx)
	if err != nil {
		return nil, gcsError(b.bucket, key, "storage.objects.get", err)
	}
	return r, nil
}

// list returns the names of the objects under prefix.
func (b gcsBucket) list(ctx context.Context, prefix string) ([]string, error) {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return nil, err
	}
	it := b.handle.Objects(ctx, q)
	it.PageInfo().MaxSize = gcsPageSize
	var names []string
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return names, nil
		}
		if err != nil {
			return nil, gcsError(b.bucket, prefix, "storage.objects.list", err)
		}
		names = append(names, attrs.Name)
	}
}
