package objects

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listS3 lists the current objects under prefix, or with src.Versions every
// version and delete marker. Keys are requested without EncodingType, so
// the SDK hands them over decoded.
func listS3(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) error {
	client, err := newS3Client(ctx, src)
	if err != nil {
		return err
	}
	c := &listCounter{s: s, location: "s3://" + bucket + "/" + prefix}
	if src.Versions {
		err = listS3Versions(ctx, client, bucket, prefix, c)
	} else {
		err = listS3Current(ctx, client, bucket, prefix, c)
	}
	if err != nil {
		return s3ListError(bucket, src.Versions, err)
	}
	return nil
}

func listS3Current(ctx context.Context, client *s3.Client, bucket, prefix string, c *listCounter) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			err := c.add(Object{
				Bucket:       bucket,
				Key:          aws.ToString(o.Key),
				Size:         aws.ToInt64(o.Size),
				StorageClass: s3Class(string(o.StorageClass)),
				LastModified: aws.ToTime(o.LastModified),
				IsLatest:     true,
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func listS3Versions(ctx context.Context, client *s3.Client, bucket, prefix string, c *listCounter) error {
	p := s3.NewListObjectVersionsPaginator(client, &s3.ListObjectVersionsInput{
		Bucket: aws.String(bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, v := range page.Versions {
			err := c.add(Object{
				Bucket:       bucket,
				Key:          aws.ToString(v.Key),
				Version:      aws.ToString(v.VersionId),
				Size:         aws.ToInt64(v.Size),
				StorageClass: s3Class(string(v.StorageClass)),
				LastModified: aws.ToTime(v.LastModified),
				IsLatest:     aws.ToBool(v.IsLatest),
			})
			if err != nil {
				return err
			}
		}
		for _, m := range page.DeleteMarkers {
			if err := c.add(s3DeleteMarker(bucket, m)); err != nil {
				return err
			}
		}
	}
	return nil
}

func s3DeleteMarker(bucket string, m types.DeleteMarkerEntry) Object {
	return Object{
		Bucket:         bucket,
		Key:            aws.ToString(m.Key),
		Version:        aws.ToString(m.VersionId),
		LastModified:   aws.ToTime(m.LastModified),
		IsLatest:       aws.ToBool(m.IsLatest),
		IsDeleteMarker: true,
	}
}

// s3Class fills in STANDARD, which S3 reports for objects stored without
// an explicit class and some S3-compatible servers leave out.
func s3Class(c string) string {
	if c == "" {
		return string(types.ObjectStorageClassStandard)
	}
	return c
}

// s3ListError names the permission a listing needs; s3Error says what
// to fix for the errors a user can fix.
func s3ListError(bucket string, versions bool, err error) error {
	perm := "s3:ListBucket"
	if versions {
		perm = "s3:ListBucketVersions"
	}
	return s3Error("bucket "+bucket, perm, err)
}
