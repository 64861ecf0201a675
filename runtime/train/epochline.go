package train

import "strings"

// An epoch's line is printed as one line when it has at most keepWidth columns (a plain
// model's, with its test accuracy and timing, has about 90); a longer one is laid out in
// lines of at most lineWidth, which an 80-column terminal shows unwrapped.
const (
	keepWidth = 100
	lineWidth = 80
)

// fitEpochLine lays out an epoch's line, whose figures are separated by two spaces
// ("epoch 3/5  d_loss 0.58  g_loss 1.92  …  test_loss 0.78  …  4.2s  153 samples/s"), to
// fit a terminal. A line of up to keepWidth columns is kept. A longer one (a GAN's phases and
// metrics run to 200 characters) becomes the epoch and its timing on one line, then the
// training figures, the validation figures (val_) and the test figures (test_), each
// group on its own lines indented by two spaces and wrapped between figures. The figures
// and their names are those of the metrics file, in the same order.
func fitEpochLine(line string) string {
	if len(line) <= keepWidth {
		return line
	}
	parts := strings.Split(line, "  ")
	head, figures := parts[0], parts[1:]
	var timing []string
	for len(figures) > 0 && isTiming(figures[len(figures)-1]) {
		timing = append([]string{figures[len(figures)-1]}, timing...)
		figures = figures[:len(figures)-1]
	}
	var train, val, test []string
	for _, f := range figures {
		switch {
		case strings.HasPrefix(f, "test_"):
			test = append(test, f)
		case strings.HasPrefix(f, "val_"):
			val = append(val, f)
		default:
			train = append(train, f)
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(append([]string{head}, timing...), "  "))
	for _, group := range [][]string{train, val, test} {
		width := 0
		for i, f := range group {
			if i == 0 || width+2+len(f) > lineWidth {
				b.WriteString("\n  ")
				width = 2
			} else {
				b.WriteString("  ")
				width += 2
			}
			b.WriteString(f)
			width += len(f)
		}
	}
	return b.String()
}

// isTiming reports whether a figure is the epoch's time ("4.2s", "0.013s") or its rate
// ("153 samples/s").
func isTiming(f string) bool {
	if strings.HasSuffix(f, " samples/s") {
		return true
	}
	num, ok := strings.CutSuffix(f, "s")
	return ok && num != "" && strings.Trim(num, "0123456789.") == ""
}
