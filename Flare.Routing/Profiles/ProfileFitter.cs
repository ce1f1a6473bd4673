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
    /// cross-validated MAPE could be computed (default 5): a few points say little about an 8-parameter model. Fewer
    /// samples under load (c &gt; 1) with a TTFT or TPOT than this and the fit looks for no prefill token budget.</summary>
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
/// <para>The prefill token budget (<see cref="LatencyModel.TtftPrefillTokensPerStep"/>) is not linear in anything: it is
/// found by an exhaustive search over the budgets at which it changes a prediction (n·L_in), each fitted as above, and
/// kept only when it lowers the error by more than the Bayesian information criterion asks of one more parameter;
/// otherwise, and always when fewer than <see cref="ProfileFitOptions.MinObservations"/> samples under load measured TTFT
/// or TPOT, the fit has no cap (the seven-coefficient form).</para>
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

        var model = Solve(used, options.MinObservations);

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
                var foldModel = Solve(training, options.MinObservations);
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

    /// <summary>Most prefill token budgets tried (<see cref="BudgetCandidates"/>); more breakpoints are thinned on a log scale.</summary>
    internal const int MaxBudgetCandidates = 48;

    /// <summary>Budgets fitted in full after the one-round screen (<see cref="Solve"/>).</summary>
    internal const int ShortlistedBudgets = 4;

    // The fit, with the prefill token budget M (LatencyModel.TtftPrefillTokensPerStep) found by a 1-D search:
    // M enters only through φ = BatchWaitShare(M, L_in, c), which depends on M only through n = ⌊M/L_in⌋ and only while
    // n < c. So over the samples the fit is piecewise constant in M, changing only at the breakpoints n·L_in: trying each
    // breakpoint (the lower end of its interval, the smallest budget that behaves so: 4·2048 = 8192) is an exhaustive
    // search, not a sampled one (up to MaxBudgetCandidates breakpoints; a grid with more is thinned), and needs no
    // starting guess, unlike a gradient step in a parameter the residual is flat in almost everywhere. Candidates are
    // screened (below), the best ShortlistedBudgets fitted by the same alternating least squares as no cap, started from
    // the no-cap fit's σ; the least squared relative error wins, ties to the larger budget. A cap must earn its
    // place by the Bayesian information criterion, N·ln(SS_cap/SS_none) + ln N < 0 over the N equations (one more
    // parameter): without that a grid that never reaches the server's budget would still pick whichever breakpoint fits
    // its noise. φ moves prefill work between TTFT and TPOT and leaves e2e alone, so only samples that measured TTFT or
    // TPOT make candidates; data with e2e alone (LLM-Inference-Bench without its TTFT file) is fitted without a cap, and
    // so is data with fewer than minObservations such samples under load (LLM-Inference-Bench's one TTFT per
    // configuration would otherwise pick whichever budget fits that one point exactly).
    private static LatencyModel Solve(IReadOnlyList<ProfileSample> samples, int minObservations)
    {
        var uncapped = SolveGivenBudget(samples, null, null, Alternations);
        if (samples.Count(s => s.Concurrency > 1 && Observations(s).Any(o => o.Curve != Curve.E2e)) < Math.Max(1, minObservations))
        {
            return uncapped;
        }

        var equations = samples.Sum(s => Observations(s).Count());
        var uncappedError = SquaredRelativeError(uncapped, samples);

        // Screen every candidate with one least-squares round at the no-cap fit's σ, then run the full alternation on the
        // best few: σ depends on the prefill and decode coefficients, which a budget hardly moves (it only shifts the
        // others' prompt work between TTFT and TPOT), so the screen ranks candidates as the full fits do at a fraction of
        // the cost.
        var shortlist = BudgetCandidates(samples)
            .Select(budget => (Budget: budget, Error: SquaredRelativeError(SolveGivenBudget(samples, budget, uncapped, 1), samples)))
            .OrderBy(c => c.Error).ThenByDescending(c => c.Budget).Take(ShortlistedBudgets).Select(c => c.Budget)
            .Order();
        LatencyModel? best = null;
        var bestError = double.PositiveInfinity;
        foreach (var budget in shortlist)
        {
            var candidate = SolveGivenBudget(samples, budget, uncapped, Alternations);
            var error = SquaredRelativeError(candidate, samples);
            if (error <= bestError)
            {
                (best, bestError) = (candidate, error);
            }
        }

        return best is not null && bestError < uncappedError
            && equations * Math.Log(bestError / uncappedError) + Math.Log(equations) < 0 ? best : uncapped;
    }

    /// <summary>
    /// Budgets at which φ changes for some sample that measured TTFT or TPOT: n·L_in for n = 1 … ⌈c⌉ − 1, ascending and
    /// distinct, at most <see cref="MaxBudgetCandidates"/> (thinned evenly in log M when there are more).
    /// </summary>
    internal static IReadOnlyList<double> BudgetCandidates(IReadOnlyList<ProfileSample> samples)
    {
        var breakpoints = new SortedSet<double>();
        foreach (var s in samples.Where(s => s.Concurrency > 1 && s.InputTokens > 0
                     && Observations(s).Any(o => o.Curve != Curve.E2e)))
        {
            for (var n = 1; n < s.Concurrency; n++)
            {
                breakpoints.Add((double)n * s.InputTokens);
            }
        }

        var all = breakpoints.ToList();
        if (all.Count <= MaxBudgetCandidates)
        {
            return all;
        }

        var (low, high) = (Math.Log(all[0]), Math.Log(all[^1]));
        return Enumerable.Range(0, MaxBudgetCandidates)
            .Select(k => all[Nearest(all, Math.Exp(low + (high - low) * k / (MaxBudgetCandidates - 1)))])
            .Distinct().ToList();

        static int Nearest(List<double> sorted, double value)
        {
            var i = sorted.BinarySearch(value);
            if (i >= 0)
            {
                return i;
            }

            i = ~i;
            return i == 0 ? 0 : i == sorted.Count ? sorted.Count - 1
                : value - sorted[i - 1] <= sorted[i] - value ? i - 1 : i;
        }
    }

    // Alternating least squares for a fixed budget: the curves are linear in the coefficients once σ
    // (LatencyModel.PrefillShare) and φ (LatencyModel.BatchWaitShare, fixed by the budget) are, and σ follows from the
    // coefficients. The first round takes σ from start, or σ = 0 (the unsaturated form) without one; each next round takes
    // σ from the last fit. It stops early when the coefficients no longer move.
    private static LatencyModel SolveGivenBudget(IReadOnlyList<ProfileSample> samples, double? budget, LatencyModel? start, int rounds)
    {
        var model = start;
        var moved = false;
        for (var round = 0; round < rounds; round++)
        {
            var rows = new List<double[]>();
            var targets = new List<double>();
            foreach (var s in samples)
            {
                var share = model?.PrefillShare(s.InputTokens, s.OutputTokens, s.Concurrency) ?? 0;
                var batchShare = LatencyModel.BatchWaitShare(budget, s.InputTokens, s.Concurrency);
                foreach (var (curve, observed) in Observations(s))
                {
                    var features = Features(curve, s, share, batchShare);
                    // Relative error: divide the equation by the observation (target 1).
                    rows.Add(features.Select(x => x / observed).ToArray());
                    targets.Add(1);
                }
            }

            var next = LatencyModel.FromArray(NonNegativeLeastSquares.Solve(rows, targets), budget);
            var settled = moved && model is not null && next.ToArray().Zip(model.ToArray()).All(p => Math.Abs(p.First - p.Second) <= 1e-9 * Math.Max(1, Math.Abs(p.Second)));
            model = next;
            moved = true;
            if (settled)
            {
                break;
            }
        }

        return model!;
    }

    private static double SquaredRelativeError(LatencyModel model, IReadOnlyList<ProfileSample> samples)
    {
        var sum = 0.0;
        foreach (var s in samples)
        {
            foreach (var (curve, observed) in Observations(s))
            {
                var relative = Predict(model, curve, s) / observed - 1;
                sum += relative * relative;
            }
        }

        return sum;
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

    private static double[] Features(Curve curve, ProfileSample s, double share, double batchShare) => curve switch
    {
        Curve.Ttft => LatencyModel.TtftFeatures(s.InputTokens, s.OutputTokens, s.Concurrency, share, batchShare),
        Curve.Tpot => LatencyModel.TpotFeatures(s.InputTokens, s.OutputTokens, s.Concurrency, share, batchShare),
        _ => LatencyModel.E2eFeatures(s.InputTokens, s.OutputTokens, s.Concurrency, share, batchShare),
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
