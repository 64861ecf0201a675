package train

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPictureBase(t *testing.T) {
	wd, _ := os.Getwd()
	for _, c := range []struct{ source, want string }{
		{"mlp.dl", "mlp"},
		{"./mlp.dl", "mlp"},
		{"examples/classifier/mlp.dl", "classifier-mlp"},
		{"examples/gan/mlp.dl", "gan-mlp"},
		{"/work/x/gan.v2.dl", "x-gan.v2"},
		{"../mlp.dl", filepath.Base(filepath.Dir(wd)) + "-mlp"},
		{"/mlp.dl", "mlp"},
	} {
		if got := PictureBase(c.source); got != c.want {
			t.Errorf("PictureBase(%q) = %q, want %q", c.source, got, c.want)
		}
	}
}
