package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// fetchS3Inventory copies an inventory report from its destination bucket
// into a temporary directory laid out as the bucket is, so the local
// reader (and DuckDB's read_csv / read_parquet) reads it like a synced
// copy. The location is s3://bucket/…/manifest.json or the configuration's
// prefix, whose newest run is fetched. cleanup removes the copy.
func fetchS3Inventory(ctx context.Context, src Source, s *Snapshot) (dir string, cleanup func(), err error) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(src.Location, "s3://"), "/")
	if bucket == "" {
		return "", nil, fmt.Errorf("%s: no bucket in the URL", src.Location)
	}
	client, err := newS3Client(ctx, src)
	if err != nil {
		return "", nil, err
	}
	if !strings.HasSuffix(key, "manifest.json") {
		if key, err = newestS3Manifest(ctx, client, bucket, key); err != nil {
			return "", nil, err
		}
	}
	dir, err = os.MkdirTemp("", "matlens-s3-inventory-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	get := func(k string, optional bool) error {
		err := getS3Object(ctx, client, bucket, k, filepath.Join(dir, filepath.FromSlash(k)))
		if err != nil && optional && isS3NotFound(err) {
			return nil
		}
		return err
	}
	if err := get(key, false); err != nil {
		cleanup()
		return "", nil, err
	}
	if err := get(path.Join(path.Dir(key), "manifest.checksum"), true); err != nil {
		cleanup()
		return "", nil, err
	}
	m, err := readS3ManifestFile(filepath.Join(dir, filepath.FromSlash(key)))
	if err != nil {
		cleanup()
		return "", nil, err
	}
	for i, f := range m.Files {
		if err := get(f.Key, false); err != nil {
			cleanup()
			return "", nil, err
		}
		s.Logger().Info("objects: fetched inventory file", "key", f.Key, "bytes", f.Size, "done", i+1, "of", len(m.Files))
	}
	return filepath.Join(dir, filepath.FromSlash(key)), cleanup, nil
}

func readS3ManifestFile(p string) (s3Manifest, error) {
	var m s3Manifest
	body, err := os.ReadFile(p)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("%s: not an S3 Inventory manifest: %w", p, err)
	}
	return m, nil
}

// newestS3Manifest finds the manifest of the newest run under a
// configuration's prefix (<prefix>/<YYYY-MM-DDTHH-MMZ>/manifest.json).
func newestS3Manifest(ctx context.Context, client *s3.Client, bucket, prefix string) (string, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var runs []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", s3Error("s3://"+bucket+"/"+prefix, "s3:ListBucket", err)
		}
		for _, cp := range page.CommonPrefixes {
			run := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if s3RunDir.MatchString(run) {
				runs = append(runs, run)
			}
		}
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("s3://%s/%s: no inventory run (<YYYY-MM-DDTHH-MMZ>/) under this prefix; give the manifest.json URL or the configuration's prefix", bucket, prefix)
	}
	sort.Strings(runs)
	return prefix + runs[len(runs)-1] + "/manifest.json", nil
}

// getS3Object copies one object to a local file.
func getS3Object(ctx context.Context, client *s3.Client, bucket, key, dst string) error {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return s3Error("s3://"+bucket+"/"+key, "s3:GetObject", err)
	}
	defer out.Body.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	fh, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(fh, out.Body); err != nil {
		fh.Close()
		return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return fh.Close()
}

// s3Error turns an S3 API error into one that says what to do: which
// permission is missing, that credentials expired, that the bucket or key
// does not exist.
func s3Error(what, permission string, err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch api.ErrorCode() {
	case "AccessDenied", "AllAccessDisabled", "Forbidden":
		return fmt.Errorf("%s: access denied: this needs %s on it for the credentials in use: %w", what, permission, err)
	case "ExpiredToken", "TokenRefreshRequired", "RequestExpired":
		return fmt.Errorf("%s: the AWS credentials have expired; refresh them (aws sso login, a new session token) and run again: %w", what, err)
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken":
		return fmt.Errorf("%s: the AWS credentials are not valid for this endpoint; check AWS_PROFILE / AWS_ACCESS_KEY_ID: %w", what, err)
	case "NoSuchBucket":
		return fmt.Errorf("%s does not exist (or is in another account, region or endpoint): %w", what, err)
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%s: no such object: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isS3NotFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")
}
