using System.Diagnostics.CodeAnalysis;

namespace Flare.Routing.Profiles;

/// <summary>Options of <see cref="ProfileFitter"/>.</summary>
public sealed record ProfileFitOptions
{
    /// <summary>Folds of the cross-validation (default 5). Fewer samples than folds: no cross-validation.</summary>
    public int Folds { get; init; } = 5;

    /// <summary>Seed of the shuffle that assigns samples to folds (default 0). The same samples in the same
    /// order always get the same folds, so a fit can be repeated exactly.</summary>
    public int FoldSeed { get; init; }

    /// <summary>A curve whose cross-validated MAPE is above this fraction is <see cref="FitVerdict.Poor"/>
    /// (default 0.15, i.e. 15 %).</summary>
    public double PoorFitMape { get; init; } = 0.15;

    /// <summary>A curve with fewer observations than this is <see cref="FitVerdict.NotValidated"/> even when a
    /// cross-validated MAPE could be computed (default 5): a few points say little about a 7-coefficient model.</summary>
    public int MinObservations { get; init; } = 5;

    /// <summary>The defaults above.</summary>
    public static ProfileFitOptions Default { get; } = new();
}

/// <summary>How far a fitted curve can be trusted.</summary>
public enum FitVerdict
{
    /// <summary>Enough observations, and the cross-validated MAPE is within <see cref="ProfileFitOptions.PoorFitMape"/>.</summary>
    Good,

    /// <summary>The cross-validated MAPE is above <see cref="ProfileFitOptions.PoorFitMape"/>: the curve is kept
    /// but should not be relied on.</summary>
    Poor,

    /// <summary>Too few observations of this quantity to validate the curve; it is constrained only through
    /// the other curves (e.g. TTFT from e2e alone).</summary>
    NotValidated,
}

/// <summary>The quality of one fitted curve against the samples that measured it.</summary>
/// <param name="Observations">Samples (errors excluded) that measured this quantity.</param>
/// <param name="RSquared">In-sample coefficient of determination 1 − SS_res/SS_tot; null with fewer than two
/// observations or no spread.</param>
/// <param name="Mape">In-sample mean absolute percentage error, as a fraction; null without observations.</param>
/// <param name="CrossValidatedMape">K-fold cross-validated MAPE as a fraction: each observation predicted by the
/// curves fitted without its fold; null when there are fewer samples than folds or no observation.</param>
/// <param name="Verdict">Whether the curve can be trusted; see <see cref="ProfileFitOptions"/> for thresholds.</param>
/// <param name="Note">Why the verdict is not <see cref="FitVerdict.Good"/>, in words for the operator.</param>
public sealed record CurveFitQuality(
    int Observations, double? RSquared, double? Mape, double? CrossValidatedMape, FitVerdict Verdict, string? Note)
{
    /// <summary>True unless the verdict is <see cref="FitVerdict.Good"/>: a flag for the UI and the optimizer.</summary>
    public bool IsFlagged => Verdict != FitVerdict.Good;
}

/// <summary>A deployment's fitted latency curves and how well each fits.</summary>
/// <param name="Model">The fitted coefficients.</param>
/// <param name="Ttft">Quality of <c>TTFT(L_in, c)</c>.</param>
/// <param name="Tpot">Quality of <c>TPOT(c, ctx)</c>.</param>
/// <param name="E2e">Quality of <c>e2e(L_in, L_out, c)</c>.</param>
/// <param name="SamplesUsed">Non-error samples the fit used.</param>
/// <param name="ErrorSamples">Error samples, kept out of the fit.</param>
/// <param name="MaxConcurrency">The largest concurrency measured; beyond it the curves extrapolate.</param>
public sealed record ProfileFit(
    LatencyModel Model,
    CurveFitQuality Ttft,
    CurveFitQuality Tpot,
    CurveFitQuality E2e,
    int SamplesUsed,
    int ErrorSamples,
    double MaxConcurrency)
{
    /// <summary>Failed requests over all requests measured.</summary>
    public double ErrorRate => SamplesUsed + ErrorSamples == 0 ? 0 : (double)ErrorSamples / (SamplesUsed + ErrorSamples);
}

/// <summary>The outcome of <see cref="ProfileFitter.Fit"/>: a fit, or the reason there is none.</summary>
public sealed record ProfileFitResult
{
    private ProfileFitResult(ProfileFit? fit, string? failure)
    {
        Fit = fit;
        Failure = failure;
    }

    /// <summary>The fit, when <see cref="Succeeded"/>.</summary>
    public ProfileFit? Fit { get; }

    /// <summary>Why nothing could be fitted, when not <see cref="Succeeded"/>.</summary>
    public string? Failure { get; }

    [MemberNotNullWhen(true, nameof(Fit))]
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Fit is not null;

    public static ProfileFitResult Success(ProfileFit fit) => new(fit ?? throw new ArgumentNullException(nameof(fit)), null);

    public static ProfileFitResult Failed(string reason) => new(null, reason);
}

/// <summary>
/// Fits a <see cref="LatencyModel"/> to profiling samples (ROUTING.md §3) and measures each curve's R² and
/// cross-validated MAPE.
/// </summary>
/// <remarks>
/// <para>One joint fit: every measured TTFT, TPOT and e2e of every non-error sample is one equation in the
/// seven coefficients for a given σ (e2e through <c>TTFT + (L_out − 1)·TPOT</c>), fitted by alternating with σ
/// (<see cref="LatencyModel.PrefillShare"/>, recomputed from the coefficients each round), so a source that only measured e2e
/// (LLM-Inference-Bench) still yields curves, and one that measured all three keeps them consistent. Each
/// equation is divided by its observed value, so the fit minimizes squared <i>relative</i> error: it matches
/// the MAPE it is judged by and keeps a 20 s e2e from drowning a 30 ms TPOT. Coefficients are found by
/// non-negative least squares (Lawson–Hanson, Householder QR).</para>
/// <para>Cross-validation: samples are shuffled with <see cref="ProfileFitOptions.FoldSeed"/> and dealt into
/// <see cref="ProfileFitOptions.Folds"/> folds in turn; each fold is predicted by the fit on the others.
/// Shuffling first keeps a sweep's recording order (length-major, say) from turning a fold into one whole
/// slice of the grid.</para>
/// <para>When a quantity was never measured its curve is reported as <see cref="FitVerdict.NotValidated"/>:
/// from e2e alone the split between TTFT and TPOT is not identified (with L_in = L_out it is not even
/// approximately), so such a curve is a guess the fit happened to make, and is flagged as such.</para>
/// </remarks>
public static class ProfileFitter
{
    /// <summary>Fits the curves. Error samples are counted but not used. Fails (as a result) when no
    /// non-error sample has a usable latency.</summary>
    public static ProfileFitResult Fit(IReadOnlyList<ProfileSample> samples, ProfileFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        options ??= ProfileFitOptions.Default;
        if (options.Folds < 2)
        {
            return ProfileFitResult.Failed($"Cross-validation needs at least 2 folds, not {options.Folds}.");
        }

        var used = samples.Where(s => !s.IsError && Observations(s).Any()).ToList();
        var errors = samples.Count(s => s.IsError);
        if (used.Count == 0)
        {
            return ProfileFitResult.Failed(samples.Count == 0
                ? "No samples."
                : $"None of the {samples.Count} samples is a successful request with a measured latency.");
        }

        var model = Solve(used);

        // Cross-validated predictions, per curve: (observed, predicted) for every held-out observation.
        var held = new Dictionary<Curve, List<(double Observed, double Predicted)>>
        {
            [Curve.Ttft] = [], [Curve.Tpot] = [], [Curve.E2e] = [],
        };
        var crossValidated = used.Count >= options.Folds;
        if (crossValidated)
        {
            var fold = AssignFolds(used.Count, options.Folds, options.FoldSeed);
            for (var k = 0; k < options.Folds; k++)
            {
                var training = used.Where((_, i) => fold[i] != k).ToList();
                var foldModel = Solve(training);
                for (var i = 0; i < used.Count; i++)
                {
                    if (fold[i] != k)
                    {
                        continue;
                    }

                    foreach (var (curve, observed) in Observations(used[i]))
                    {
                        held[curve].Add((observed, Predict(foldModel, curve, used[i])));
                    }
                }
            }
        }

        CurveFitQuality Quality(Curve curve)
        {
            var pairs = used.SelectMany(s => Observations(s).Where(o => o.Curve == curve)
                .Select(o => (Observed: o.Value, Predicted: Predict(model, curve, s)))).ToList();
            var cv = crossValidated && held[curve].Count > 0 ? MeanAbsolutePercentageError(held[curve]) : (double?)null;
            var (verdict, note) = Judge(curve, pairs.Count, cv, used.Count, options);
            return new CurveFitQuality(
                pairs.Count, RSquared(pairs), pairs.Count > 0 ? MeanAbsolutePercentageError(pairs) : null, cv, verdict, note);
        }

        var fit = new ProfileFit(
            model, Quality(Curve.Ttft), Quality(Curve.Tpot), Quality(Curve.E2e), used.Count, errors,
            used.Max(s => s.Concurrency));
        return ProfileFitResult.Success(fit);
    }

    /// <summary>Mean of |predicted − observed| / observed, as a fraction.</summary>
    public static double MeanAbsolutePercentageError(IEnumerable<(double Observed, double Predicted)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var list = pairs.ToList();
        return list.Count == 0 ? double.NaN : list.Average(p => Math.Abs(p.Predicted - p.Observed) / p.Observed);
    }

    internal enum Curve
    {
        Ttft,
        Tpot,
        E2e,
    }

    internal static int[] AssignFolds(int count, int folds, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        var fold = new int[count];
        for (var position = 0; position < count; position++)
        {
            fold[order[position]] = position % folds;
        }

        return fold;
    }

    /// <summary>Rounds of the alternating fit: σ from the previous coefficients, then the coefficients by NNLS given σ.</summary>
    internal const int Alternations = 30;

    // Alternating least squares: the curves are linear in the coefficients once σ (LatencyModel.PrefillShare) is fixed,
    // and σ follows from the coefficients. The first round takes σ = 0 (the unsaturated form); each next round takes σ
    // from the last fit. It stops early when the coefficients no longer move.
    private static LatencyModel Solve(IReadOnlyList<ProfileSample> samples)
    {
        LatencyModel? model = null;
        for (var round = 0; round < Alternations; round++)
        {
            var rows = new List<double[]>();
            var targets = new List<double>();
            foreach (var s in samples)
            {
                var share = model?.PrefillShare(s.InputTokens, s.OutputTokens, s.Concurrency) ?? 0;
                foreach (var (curve, observed) in Observations(s))
                {
                    var features = Features(curve, s, share);
                    // Relative error: divide the equation by the observation (target 1).
                    rows.Add(features.Select(x => x / observed).ToArray());
                    targets.Add(1);
                }
            }

            var next = LatencyModel.FromArray(NonNegativeLeastSquares.Solve(rows, targets));
            var settled = model is not null && next.ToArray().Zip(model.ToArray()).All(p => Math.Abs(p.First - p.Second) <= 1e-9 * Math.Max(1, Math.Abs(p.Second)));
            model = next;
            if (settled)
            {
                break;
            }
        }

        return model!;
    }

    private static IEnumerable<(Curve Curve, double Value)> Observations(ProfileSample s)
    {
        if (s.TtftMs is { } ttft && Usable(ttft))
        {
            yield return (Curve.Ttft, ttft);
        }

        if (s.TpotMs is { } tpot && Usable(tpot) && s.OutputTokens > 1)
        {
            yield return (Curve.Tpot, tpot);
        }

        if (s.E2eMs is { } e2e && Usable(e2e))
        {
            yield return (Curve.E2e, e2e);
        }
    }

    private static bool Usable(double ms) => double.IsFinite(ms) && ms > 0;

    private static double[] Features(Curve curve, ProfileSample s, double share) => curve switch
    {
        Curve.Ttft => LatencyModel.TtftFeatures(s.InputTokens, s.OutputTokens, s.Concurrency, share),
        Curve.Tpot => LatencyModel.TpotFeatures(s.InputTokens, s.OutputTokens, s.Concurrency, share),
        _ => LatencyModel.E2eFeatures(s.InputTokens, s.OutputTokens, s.Concurrency, share),
    };

    private static double Predict(LatencyModel model, Curve curve, ProfileSample s) => curve switch
    {
        Curve.Ttft => model.TtftMs(s.InputTokens, s.OutputTokens, s.Concurrency),
        Curve.Tpot => model.TpotMs(s.InputTokens, s.OutputTokens, s.Concurrency),
        _ => model.E2eMs(s.InputTokens, s.OutputTokens, s.Concurrency),
    };

    private static double? RSquared(List<(double Observed, double Predicted)> pairs)
    {
        if (pairs.Count < 2)
        {
            return null;
        }

        var mean = pairs.Average(p => p.Observed);
        var total = pairs.Sum(p => (p.Observed - mean) * (p.Observed - mean));
        if (total <= 0)
        {
            return null;
        }

        return 1 - pairs.Sum(p => (p.Observed - p.Predicted) * (p.Observed - p.Predicted)) / total;
    }

    private static (FitVerdict, string?) Judge(Curve curve, int observations, double? cv, int samples, ProfileFitOptions options)
    {
        var name = curve switch { Curve.Ttft => "TTFT", Curve.Tpot => "TPOT", _ => "e2e" };
        if (observations == 0)
        {
            return (FitVerdict.NotValidated,
                $"No {name} was measured: the curve is constrained only through the other curves and is not validated.");
        }

        if (cv is null)
        {
            return (FitVerdict.NotValidated,
                $"{samples} samples are fewer than the {options.Folds} cross-validation folds: the {name} curve is not validated.");
        }

        if (observations < options.MinObservations)
        {
            return (FitVerdict.NotValidated,
                $"Only {observations} {name} observation(s), fewer than {options.MinObservations}: the curve is not validated.");
        }

        return cv > options.PoorFitMape
            ? (FitVerdict.Poor, $"Cross-validated {name} MAPE {cv:P1} is above the {options.PoorFitMape:P0} threshold.")
            : (FitVerdict.Good, null);
    }
}
