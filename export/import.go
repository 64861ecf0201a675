package export

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
)

// Import reads a torch state_dict saved with safetensors and maps it onto m's variables
// (FromTorch). It fails when a variable is missing or misshapen; tensors that map to no
// variable are only reported.
func Import(path string, m *ir.Module) (Mapping, error) {
	ts, _, err := checkpoint.Load(path)
	if err != nil {
		return Mapping{}, err
	}
	mp := FromTorch(ts, m)
	var msgs []string
	if len(mp.Missing) > 0 {
		msgs = append(msgs, "missing: "+strings.Join(mp.Missing, ", "))
	}
	if len(mp.Misshapen) > 0 {
		msgs = append(msgs, "of the wrong shape (torch's layout): "+strings.Join(mp.Misshapen, ", "))
	}
	if len(msgs) > 0 {
		return mp, fmt.Errorf("import: %s does not match the model: %s", path, strings.Join(msgs, "; "))
	}
	return mp, nil
}

// Save writes dlc's variables as a dlc checkpoint.
func Save(path string, vars map[string]Tensor, source string) error {
	return checkpoint.Save(path, vars, map[string]string{"dlc.source": source, "dlc.imported": "torch"})
}
