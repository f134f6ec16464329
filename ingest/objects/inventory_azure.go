package objects

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// azureManifest is an Azure Blob Inventory rule run's
// <rule>-manifest.json.
type azureManifest struct {
	DestinationContainer string `json:"destinationContainer"`
	Files                []struct {
		Blob string `json:"blob"`
		Size int64  `json:"size"`
	} `json:"files"`
	InventoryStartTime string `json:"inventoryStartTime"`
	RuleName           string `json:"ruleName"`
	Status             string `json:"status"`
	RuleDefinition     struct {
		Format string `json:"format"`
	} `json:"ruleDefinition"`
}

// readAzureInventory loads one Blob Inventory rule run: its manifest, or a
// directory (a copy of the destination container) whose newest manifest is
// read. The location is local; az:// and https:// URLs are fetched first.
func readAzureInventory(ctx context.Context, loc string, s *Snapshot) error {
	manifest, err := azureManifestPath(loc)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	if err := verifyChecksumFile(manifest, azureChecksumName(manifest), body); err != nil {
		return err
	}
	m, err := parseAzureManifest(body)
	if err != nil {
		return fmt.Errorf("%s: %w", manifest, err)
	}
	if !strings.EqualFold(m.Status, "Succeeded") {
		return fmt.Errorf("%s: the inventory run's status is %q, not Succeeded: wait for the run to finish (its -manifest.checksum appears then) or read an earlier run", manifest, m.Status)
	}
	sizes := make([]int64, len(m.Files))
	for i, f := range m.Files {
		sizes[i] = f.Size
	}
	files, err := resolveFiles(manifest, m.blobs(), sizes, nil)
	if err != nil {
		return err
	}
	if t, err := time.Parse(time.RFC3339, m.InventoryStartTime); err == nil {
		s.SetSnapshotAt(t)
	}
	s.Logger().Info("objects: reading Azure Blob Inventory", "manifest", manifest, "rule", m.RuleName, "files", len(files))
	for _, f := range files {
		if err := f.verify(); err != nil {
			return err
		}
		query, err := azureInventorySelect(ctx, s, f.path)
		if err != nil {
			return err
		}
		if _, err := s.InsertSelect(query, f.path); err != nil {
			return fmt.Errorf("%s: %w", f.path, duckError(err))
		}
		s.AddFiles(1)
	}
	return nil
}

// parseAzureManifest decodes a <rule>-manifest.json and checks that every
// file it lists is a blob path inside the destination container.
func parseAzureManifest(body []byte) (azureManifest, error) {
	return parseManifest(body, "Azure Blob Inventory", azureManifest.blobs)
}

// blobs are the data files' paths, relative to the destination container.
func (m azureManifest) blobs() []string {
	blobs := make([]string, len(m.Files))
	for i, f := range m.Files {
		blobs[i] = f.Blob
	}
	return blobs
}

// azureChecksumName is the checksum file written beside a manifest.
func azureChecksumName(manifest string) string {
	return strings.TrimSuffix(manifest, ".json") + ".checksum"
}

func azureManifestPath(loc string) (string, error) {
	st, err := os.Stat(loc)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return loc, nil
	}
	newest, err := newestMatch(loc, func(rel string, d fs.DirEntry) bool {
		return !d.IsDir() && strings.HasSuffix(rel, "-manifest.json")
	})
	if err != nil {
		return "", err
	}
	if newest == "" {
		return "", fmt.Errorf("%s: no <rule>-manifest.json in it or below it", loc)
	}
	return newest, nil
}

// azureInventorySelect selects one data file's blobs. Name carries the
// container ("container/path/to/blob"); a file can repeat a row (the
// service documents rare duplicates), so rows are distinct.
func azureInventorySelect(ctx context.Context, s *Snapshot, path string) (string, error) {
	cols, from, err := s.headedFileColumns(ctx, path)
	if err != nil {
		return "", err
	}
	for _, need := range []string{"Name", "Content-Length"} {
		if _, ok := cols.first(need); !ok {
			return "", fmt.Errorf("%s: the inventory has no %s field; add it to the rule's schemaFields", path, need)
		}
	}
	version := textExpr(cols, "VersionId")
	if version != "NULL::VARCHAR" {
		// Rows without a version spell it "Null".
		version = fmt.Sprintf("nullif(%s, 'Null')", version)
	}
	isLatest := boolExpr(cols, true, "IsCurrentVersion")
	if _, ok := cols.first("Deleted"); ok {
		isLatest = fmt.Sprintf("(%s AND NOT %s)", isLatest, boolExpr(cols, false, "Deleted"))
	}
	name := ident("Name")
	return fmt.Sprintf(`SELECT DISTINCT split_part(%[1]s, '/', 1) AS bucket,
       substr(%[1]s, length(split_part(%[1]s, '/', 1)) + 2) AS key,
       %[2]s AS version, %[3]s AS size_bytes, %[4]s AS storage_class,
       NULL::VARCHAR AS access_tier, %[5]s AS last_modified,
       %[6]s AS is_latest, false AS is_delete_marker
FROM %[7]s`,
		name, version, sizeExpr(cols, "Content-Length"), textExpr(cols, "AccessTier"),
		timeExpr(cols, "Last-Modified"), isLatest, from), nil
}
