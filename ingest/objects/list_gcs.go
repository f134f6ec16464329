package objects

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// gcsListAttrs are the only object fields a listing asks for: the response
// shrinks to a fraction, which matters across millions of objects.
var gcsListAttrs = []string{"Name", "Size", "StorageClass", "Updated", "Generation", "Deleted"}

const gcsPageSize = 1000

// listGCS lists the live objects under prefix, or with src.Versions every
// generation, noncurrent ones included. A custom endpoint is taken to be
// an emulator (fake-gcs-server), which wants no credentials; otherwise the
// client uses Application Default Credentials.
func listGCS(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) (err error) {
	location := "gs://" + bucket + "/" + prefix
	client, err := newGCSClient(ctx, src)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, client.Close()) }()

	q := &storage.Query{Prefix: prefix, Versions: src.Versions}
	if err := q.SetAttrSelection(gcsListAttrs); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	c := &listCounter{s: s, location: location}
	it := client.Bucket(bucket).Objects(ctx, q)
	// GCS pages at 1,000 by default; emulators answer a request without
	// maxResults in one response however large, so ask for pages always.
	it.PageInfo().MaxSize = gcsPageSize
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return gcsError(bucket, prefix, "storage.objects.list", err)
		}
		o := Object{
			Bucket:       bucket,
			Key:          attrs.Name,
			Size:         attrs.Size,
			StorageClass: attrs.StorageClass,
			LastModified: attrs.Updated,
			// A noncurrent generation carries the time it was replaced or
			// deleted; the live one has none.
			IsLatest: attrs.Deleted.IsZero(),
		}
		// Without versions the listing is of current objects, as S3's is,
		// and leaves the version column empty the same way.
		if src.Versions {
			o.Version = strconv.FormatInt(attrs.Generation, 10)
		}
		if err := c.add(o); err != nil {
			return err
		}
	}
}

// newGCSClient builds the client for a source. A custom endpoint is taken
// to be an emulator (fake-gcs-server), which wants no credentials and is
// read through the JSON API: the client's default XML reads escape the
// object name's slashes (%2F), which fake-gcs-server does not find.
// Otherwise the client uses Application Default Credentials.
func newGCSClient(ctx context.Context, src Source) (*storage.Client, error) {
	var opts []option.ClientOption
	if src.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(src.Endpoint), option.WithoutAuthentication(), storage.WithJSONReads())
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcs client: %w", err)
	}
	return client, nil
}

// gcsError says, for the errors a user can fix, what to fix: which
// permission is missing on which bucket, that the credentials are bad,
// that the bucket or object does not exist. object is the key read or the
// prefix listed.
func gcsError(bucket, object, permission string, err error) error {
	what := "gs://" + bucket + "/" + object
	if errors.Is(err, storage.ErrObjectNotExist) {
		// A read cannot tell a missing object from a missing bucket.
		return &notFoundError{msg: fmt.Sprintf("%s: no such object (or no bucket %s): %v", what, bucket, err), err: err}
	}
	if errors.Is(err, storage.ErrBucketNotExist) {
		return fmt.Errorf("%s: bucket %s does not exist: %w", what, bucket, err)
	}
	var gErr *googleapi.Error
	if errors.As(err, &gErr) {
		switch gErr.Code {
		case http.StatusForbidden:
			return fmt.Errorf("%s: access denied: this needs %s on bucket %s for the credentials in use: %w", what, permission, bucket, err)
		case http.StatusUnauthorized:
			return fmt.Errorf("%s: the Google credentials are missing, expired or invalid; refresh them (gcloud auth application-default login): %w", what, err)
		case http.StatusNotFound:
			return fmt.Errorf("%s: bucket %s does not exist: %w", what, bucket, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}
