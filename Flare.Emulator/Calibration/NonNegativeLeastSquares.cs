namespace Flare.Emulator.Calibration;

/// <summary>Least squares with θ ≥ 0, by cyclic coordinate descent on the normal equations (few unknowns).</summary>
internal static class NonNegativeLeastSquares
{
    /// <summary>Minimizes Σ_r (rows[r]·θ − targets[r])² subject to θ ≥ 0.</summary>
    public static double[] Solve(IReadOnlyList<double[]> rows, IReadOnlyList<double> targets)
    {
        var n = rows[0].Length;
        // Columns are scaled to unit norm first: the features differ by orders of magnitude (steps vs tokens).
        var scale = new double[n];
        for (var j = 0; j < n; j++)
        {
            var norm = Math.Sqrt(rows.Sum(r => r[j] * r[j]));
            scale[j] = norm > 0 ? norm : 1;
        }

        var g = new double[n, n];
        var h = new double[n];
        for (var r = 0; r < rows.Count; r++)
        {
            for (var j = 0; j < n; j++)
            {
                var xj = rows[r][j] / scale[j];
                h[j] += xj * targets[r];
                for (var k = 0; k < n; k++)
                {
                    g[j, k] += xj * rows[r][k] / scale[k];
                }
            }
        }

        var theta = new double[n];
        for (var sweep = 0; sweep < 200_000; sweep++)
        {
            var change = 0.0;
            for (var j = 0; j < n; j++)
            {
                if (g[j, j] <= 0)
                {
                    continue;
                }

                var rest = h[j];
                for (var k = 0; k < n; k++)
                {
                    if (k != j)
                    {
                        rest -= g[j, k] * theta[k];
                    }
                }

                var next = Math.Max(0, rest / g[j, j]);
                change = Math.Max(change, Math.Abs(next - theta[j]));
                theta[j] = next;
            }

            if (change < 1e-13)
            {
                break;
            }
        }

        for (var j = 0; j < n; j++)
        {
            theta[j] /= scale[j];
        }

        return theta;
    }
}
