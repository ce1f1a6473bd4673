namespace Flare.Routing.Profiles;

/// <summary>
/// Least squares with θ ≥ 0 by the Lawson–Hanson active-set method (Lawson &amp; Hanson, <i>Solving Least
/// Squares Problems</i>, 1974, ch. 23), each inner problem solved by Householder QR. Exact after finitely
/// many steps, unlike coordinate descent, and QR avoids squaring the condition number as the normal
/// equations would. Meant for a handful of unknowns.
/// </summary>
internal static class NonNegativeLeastSquares
{
    private const int MaxOuterIterations = 200;

    /// <summary>Minimizes Σ_r (rows[r]·θ − targets[r])² subject to θ ≥ 0.</summary>
    public static double[] Solve(IReadOnlyList<double[]> rows, IReadOnlyList<double> targets)
    {
        if (rows.Count == 0)
        {
            throw new ArgumentException("At least one row is needed.", nameof(rows));
        }

        var m = rows.Count;
        var n = rows[0].Length;

        // Columns are scaled to unit norm: the features differ by orders of magnitude (1 vs tokens × requests).
        var scale = new double[n];
        for (var j = 0; j < n; j++)
        {
            var sum = 0.0;
            for (var r = 0; r < m; r++)
            {
                sum += rows[r][j] * rows[r][j];
            }

            scale[j] = Math.Sqrt(sum);
        }

        var a = new double[m][];
        for (var r = 0; r < m; r++)
        {
            a[r] = new double[n];
            for (var j = 0; j < n; j++)
            {
                a[r][j] = scale[j] > 0 ? rows[r][j] / scale[j] : 0;
            }
        }

        var b = targets.ToArray();
        var bNorm = Math.Sqrt(b.Sum(v => v * v));
        var tolerance = 1e-12 * Math.Max(1, bNorm);

        var x = new double[n];
        var passive = new bool[n];
        var usable = scale.Select(s => s > 0).ToArray();

        for (var outer = 0; outer < MaxOuterIterations; outer++)
        {
            var w = Gradient(a, b, x);
            var t = -1;
            var best = tolerance;
            for (var j = 0; j < n; j++)
            {
                if (!passive[j] && usable[j] && w[j] > best)
                {
                    best = w[j];
                    t = j;
                }
            }

            if (t < 0)
            {
                break;
            }

            passive[t] = true;
            for (var inner = 0; inner < 10 * n + 10; inner++)
            {
                var z = SolvePassive(a, b, passive);
                if (inner == 0 && z[t] <= 0)
                {
                    // Rounding made the entering column useless; keep it out so the method cannot cycle.
                    passive[t] = false;
                    usable[t] = false;
                    break;
                }

                var alpha = double.PositiveInfinity;
                for (var j = 0; j < n; j++)
                {
                    if (passive[j] && z[j] <= 0)
                    {
                        alpha = Math.Min(alpha, x[j] / (x[j] - z[j]));
                    }
                }

                if (double.IsPositiveInfinity(alpha))
                {
                    x = z;
                    break;
                }

                for (var j = 0; j < n; j++)
                {
                    x[j] += alpha * (z[j] - x[j]);
                    if (passive[j] && x[j] <= tolerance)
                    {
                        passive[j] = false;
                        x[j] = 0;
                    }
                }
            }
        }

        for (var j = 0; j < n; j++)
        {
            x[j] = scale[j] > 0 ? Math.Max(0, x[j]) / scale[j] : 0;
        }

        return x;
    }

    private static double[] Gradient(double[][] a, double[] b, double[] x)
    {
        var n = x.Length;
        var w = new double[n];
        for (var r = 0; r < a.Length; r++)
        {
            var residual = b[r];
            for (var j = 0; j < n; j++)
            {
                residual -= a[r][j] * x[j];
            }

            for (var j = 0; j < n; j++)
            {
                w[j] += a[r][j] * residual;
            }
        }

        return w;
    }

    /// <summary>Unconstrained least squares on the passive columns (Householder QR); other entries are 0.</summary>
    private static double[] SolvePassive(double[][] a, double[] b, bool[] passive)
    {
        var columns = Enumerable.Range(0, passive.Length).Where(j => passive[j]).ToArray();
        var solution = Householder(a, b, columns);
        var z = new double[passive.Length];
        for (var k = 0; k < columns.Length; k++)
        {
            z[columns[k]] = solution[k];
        }

        return z;
    }

    /// <summary>Least squares on the given columns of <paramref name="a"/> by Householder QR. A column that is
    /// (numerically) a combination of earlier ones gets coefficient 0.</summary>
    internal static double[] Householder(double[][] a, double[] b, int[] columns)
    {
        var m = a.Length;
        var k = columns.Length;
        var q = new double[m, k];
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c < k; c++)
            {
                q[r, c] = a[r][columns[c]];
            }
        }

        var y = (double[])b.Clone();
        var diagonal = new double[k];
        var steps = Math.Min(m, k);
        for (var c = 0; c < steps; c++)
        {
            var norm = 0.0;
            for (var r = c; r < m; r++)
            {
                norm += q[r, c] * q[r, c];
            }

            norm = Math.Sqrt(norm);
            if (norm == 0)
            {
                diagonal[c] = 0;
                continue;
            }

            var alpha = q[c, c] > 0 ? -norm : norm;
            var v0 = q[c, c] - alpha;
            q[c, c] = v0;
            var vNorm2 = v0 * v0;
            for (var r = c + 1; r < m; r++)
            {
                vNorm2 += q[r, c] * q[r, c];
            }

            diagonal[c] = alpha;
            if (vNorm2 == 0)
            {
                continue;
            }

            for (var cc = c + 1; cc < k; cc++)
            {
                var dot = 0.0;
                for (var r = c; r < m; r++)
                {
                    dot += q[r, c] * q[r, cc];
                }

                var f = 2 * dot / vNorm2;
                for (var r = c; r < m; r++)
                {
                    q[r, cc] -= f * q[r, c];
                }
            }

            var dy = 0.0;
            for (var r = c; r < m; r++)
            {
                dy += q[r, c] * y[r];
            }

            var fy = 2 * dy / vNorm2;
            for (var r = c; r < m; r++)
            {
                y[r] -= fy * q[r, c];
            }
        }

        // Back substitution on R (diagonal in `diagonal`, above it in q), dropping near-dependent columns.
        var maxDiagonal = diagonal.Take(steps).Select(Math.Abs).DefaultIfEmpty(0).Max();
        var x = new double[k];
        for (var c = steps - 1; c >= 0; c--)
        {
            if (Math.Abs(diagonal[c]) <= 1e-10 * maxDiagonal || maxDiagonal == 0)
            {
                x[c] = 0;
                continue;
            }

            var sum = y[c];
            for (var cc = c + 1; cc < k; cc++)
            {
                sum -= q[c, cc] * x[cc];
            }

            x[c] = sum / diagonal[c];
        }

        return x;
    }
}
