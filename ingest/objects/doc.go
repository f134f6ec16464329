// Package objects loads snapshots of object stores into the matlens DuckDB
// file: which objects exist, how big they are, in which storage class, and
// since when. Real IO managers record where an asset lives (an S3 URI, a
// path) but almost never how big it is; the objects are the truth that the
// analyze stage joins assets to.
//
// A Source names one place to read: an S3 Inventory manifest, a GCS Storage
// Insights inventory report, an Azure Blob Inventory manifest, a live
// listing (s3://, gs://, Azure URLs) or a local directory. Load reads it and
// replaces that source's rows of storage_objects in one DuckDB transaction,
// so a failed or interrupted load leaves the previous snapshot whole.
// Inventory files on local disk are read by DuckDB itself (read_csv,
// read_parquet); an inventory given by its bucket URL (s3://, gs://, az://,
// https://) is first copied to a temporary directory laid out as the
// bucket and read the same way. Listings and directory walks stream through Arrow batches
// of bounded size.
//
// Errors start with "objects: " and name the source, file, bucket or
// permission at fault.
package objects
