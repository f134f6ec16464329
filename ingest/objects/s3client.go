package objects

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3MaxAttempts is more than the SDK's default of 3: a listing of millions
// of keys makes thousands of requests, and one throttled page must not fail
// the whole snapshot.
const s3MaxAttempts = 5

// newS3Client builds an S3 client from the standard AWS credential chain
// (environment, shared config and credentials files, SSO, web identity,
// container and instance roles), with the source's region and endpoint.
// The SDK's standard retryer backs off on throttling (SlowDown, 503).
func newS3Client(ctx context.Context, src Source) (*s3.Client, error) {
	var loadOpts []func(*config.LoadOptions) error
	if src.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(src.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		// Custom endpoints (MinIO) rarely care; AWS itself needs one.
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// AWS_MAX_ATTEMPTS or max_attempts in the shared config wins; the
		// client wraps its retryer with this count after the options run.
		if o.RetryMaxAttempts == 0 {
			o.RetryMaxAttempts = s3MaxAttempts
		}
		if src.Endpoint != "" {
			o.BaseEndpoint = aws.String(src.Endpoint)
		}
		o.UsePathStyle = src.PathStyle
	}), nil
}
