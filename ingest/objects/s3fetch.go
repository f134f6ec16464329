package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// fetchS3Inventory copies an inventory report from its destination bucket
// into c. The location is s3://bucket/…/manifest.json or the
// configuration's prefix, whose newest run is fetched.
func fetchS3Inventory(ctx context.Context, src Source, c *reportCopy) (string, error) {
	_, bucket, key, err := splitBucketURL(string(src.Kind), src.Location)
	if err != nil {
		return "", err
	}
	client, err := newS3Client(ctx, src)
	if err != nil {
		return "", err
	}
	b := s3Bucket{client: client, bucket: bucket}
	if !strings.HasSuffix(key, "manifest.json") {
		if key, err = newestS3Manifest(ctx, client, bucket, key); err != nil {
			return "", err
		}
	}
	return key, c.fetchReport(ctx, b, key, path.Join(path.Dir(key), "manifest.checksum"), func(body []byte) ([]string, error) {
		m, err := parseS3Manifest(body)
		return m.keys(), err
	})
}

// s3Bucket reads an inventory's destination bucket.
type s3Bucket struct {
	client *s3.Client
	bucket string
}

func (b s3Bucket) url(key string) string { return "s3://" + b.bucket + "/" + key }

func (b s3Bucket) open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s3Error(b.url(key), "s3:GetObject", err)
	}
	return out.Body, nil
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
		return &notFoundError{msg: fmt.Sprintf("%s: no such object: %v", what, err), err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}
