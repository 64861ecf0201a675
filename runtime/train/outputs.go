package train

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/anomaly"
	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/embed"
)

// What the commands that train or use a model need of the packages below this one, named
// here so that the command imports train and no package under it: the tensors it reads and
// writes, the memory estimate, the files it writes atomically, node pairs, the anomaly
// report and the map of codes. Each is the other package's own, under a name.

// Tensor is runtime's tensor: a shape and its float32 values.
type Tensor = runtime.Tensor

// MemoryEstimate is what a training run holds, from EstimateMemory.
type MemoryEstimate = runtime.MemoryEstimate

// EstimateMemory estimates what a run of m holds (runtime.EstimateMemory): at the train
// block's batch, and evaluation at evalBatch (0: DefaultEvalBatch).
func EstimateMemory(m *ir.Module, evalBatch int) (MemoryEstimate, error) {
	return runtime.EstimateMemory(m, evalBatch)
}

// FormatBytes writes a byte count in binary units: 10.2 MiB.
func FormatBytes(n int64) string { return runtime.FormatBytes(n) }

// DataOptions say where data lies (data.Options): dlc's --data-dir.
type DataOptions = data.Options

// NodePairs are node pairs of a graph (data.Pairs), with a label each when they are a
// link model's held-out test pairs.
type NodePairs = data.Pairs

// ReadNodePairs reads the pairs a link model scores from a CSV or an integer .npy file
// (data.ReadNodePairs); every node is below n.
func ReadNodePairs(path string, n int) (NodePairs, error) { return data.ReadNodePairs(path, n) }

// NodePairsCSV writes pairs as CSV, src,dst and with labelled a label column.
func NodePairsCSV(p NodePairs, labelled bool) []byte { return data.NodePairsCSV(p, labelled) }

// AnomalyReport is the evaluation of a set's anomaly scores (anomaly.Report).
type AnomalyReport = anomaly.Report

// CodeMap is codes mapped to the plane, and CodeMapOptions how (embed.Map2D).
type (
	CodeMap        = embed.Map
	CodeMapOptions = embed.MapOptions
)

// MapCodes maps a sample of the codes (rows × dim) to the plane, as embed.Map2D does.
func MapCodes(codes []float32, rows, dim int, labels []int, o CodeMapOptions) (CodeMap, error) {
	return embed.Map2D(codes, rows, dim, labels, o)
}

// CodesCSV writes codes (rows × dim), a column each, a label column when labels are
// known and a cluster column when clusters are (embed.CodesCSV).
func CodesCSV(codes []float32, rows, dim int, labels, clusters []int) []byte {
	return embed.CodesCSV(codes, rows, dim, labels, clusters)
}

// CodeClusters is a k-means clustering of codes, and CodeClusterOptions how (embed.KMeans).
type (
	CodeClusters       = embed.Clusters
	CodeClusterOptions = embed.KMeansOptions
)

// ClusterCodes clusters the codes (rows × dim) by k-means, as embed.KMeans does.
func ClusterCodes(codes []float32, rows, dim int, o CodeClusterOptions) (CodeClusters, error) {
	x := make([]float64, len(codes))
	for i, v := range codes {
		x[i] = float64(v)
	}
	return embed.KMeans(x, rows, dim, o)
}

// ClusterPurity and ClusterNMI compare each sample's cluster with its label (embed.Purity,
// embed.NMI: the normalized mutual information, arithmetic normalization).
func ClusterPurity(clusters, labels []int) float64 { return embed.Purity(clusters, labels) }
func ClusterNMI(clusters, labels []int) float64    { return embed.NMI(clusters, labels) }

// ReadNPY reads a .npy file as a tensor.
func ReadNPY(path string) (*Tensor, error) {
	d, shape, err := data.NPY(path)
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: shape, Data: d}, nil
}

// WriteNPY writes t as a .npy file, atomically. A tensor holding a NaN or an infinity
// is refused, as a checkpoint's is: a file of outputs gone bad would only be read as data.
func WriteNPY(path string, t *Tensor) error {
	if err := finiteTensor("the outputs", t); err != nil {
		return fmt.Errorf("%s: not written: %v", path, err)
	}
	var buf bytes.Buffer
	if err := data.WriteNPY(&buf, t.Shape, t.Data); err != nil {
		return err
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// WriteLabelsNPY writes classes as a 1-d int32 .npy file, atomically: what the npy data
// source reads as class indices (one-hot encoded), beside samples written by WriteNPY.
func WriteLabelsNPY(path string, classes []int) error {
	v := make([]int32, len(classes))
	for i, c := range classes {
		v[i] = int32(c)
	}
	var buf bytes.Buffer
	if err := data.WriteNPYInt32(&buf, []int{len(v)}, v); err != nil {
		return err
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// WriteFileAtomic replaces path with b all at once (runtime/atomicfile), so that a reader
// never sees a half-written file and a failed write keeps the old one.
func WriteFileAtomic(path string, b []byte) error {
	return atomicfile.WriteFile(path, b, 0o644)
}

// CheckWritable reports, before any work, whether path could be written: its directory
// exists and a file can be made in it.
func CheckWritable(path string) error {
	if err := atomicfile.CheckWritable(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot write %s: directory %s does not exist", path, filepath.Dir(path))
		}
		return err // CheckWritable names the path
	}
	return nil
}
