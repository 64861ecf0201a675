package train

import (
	"strings"
	"testing"
)

// TestFitEpochLine: a plain model's line (91 columns) is kept; a GAN's (about 190)
// becomes the epoch with its timing, then its training and test figures, every line at
// most 80 columns, every figure kept in order.
func TestFitEpochLine(t *testing.T) {
	short := "epoch 3/5  train_loss 0.10234  test_loss 0.09876  test_accuracy 0.9712  2.1s  28571 samples/s"
	if got := fitEpochLine(short); got != short {
		t.Errorf("short line changed: %q", got)
	}
	gan := "epoch 1/1  d_loss 0.5825  g_loss 1.9189  d_fake 0.3343  d_fake_g 0.2005  d_real 0.8947  test_loss 0.78246  test_d_fake 0.3759  test_d_real 0.7349  test_g_loss 0.9788  4.2s  153 samples/s"
	want := "epoch 1/1  4.2s  153 samples/s\n" +
		"  d_loss 0.5825  g_loss 1.9189  d_fake 0.3343  d_fake_g 0.2005  d_real 0.8947\n" +
		"  test_loss 0.78246  test_d_fake 0.3759  test_d_real 0.7349  test_g_loss 0.9788"
	if got := fitEpochLine(gan); got != want {
		t.Errorf("GAN line:\n%s\nwant:\n%s", got, want)
	}
	long := "epoch 12/100  " + strings.Repeat("d_metric 0.1234  ", 12) + "val_loss 0.5  test_loss 0.25  0.013s"
	got := fitEpochLine(long)
	for _, l := range strings.Split(got, "\n") {
		if len(l) > lineWidth {
			t.Errorf("line of %d columns: %q", len(l), l)
		}
	}
	if strings.Count(got, "d_metric 0.1234") != 12 || !strings.HasPrefix(got, "epoch 12/100  0.013s\n") ||
		!strings.HasSuffix(got, "\n  val_loss 0.5\n  test_loss 0.25") {
		t.Errorf("wrapped line:\n%s", got)
	}
}
