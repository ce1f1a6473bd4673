using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class ProfileFitterTests
{
    // A latency function of the fitted family, with values like a 7–8B model on one A100.
    internal static readonly LatencyModel Truth = new(
        TtftBaseMs: 35, TtftPerInputTokenMs: 0.07, TtftPerQueuedInputTokenMs: 0.03, TtftPerQueuedRequestMs: 1.5,
        TpotBaseMs: 9, TpotPerRequestMs: 0.06, TpotPerContextTokenMs: 0.00012);

    /// <summary>Samples of <see cref="Truth"/> on a grid, each latency with independent multiplicative noise
    /// (normal, sd <paramref name="noise"/>); e2e is assembled from the noisy TTFT and TPOT as a stream would be.</summary>
    internal static List<ProfileSample> Synthetic(int seed, double noise, int[] inputs, int[] outputs, int[] concurrencies, int repeats,
        LatencyModel? truth = null)
    {
        truth ??= Truth;
        var random = new Random(seed);
        double Noisy(double value) => value * Math.Max(0.5, 1 + noise * Gaussian(random));
        var samples = new List<ProfileSample>();
        foreach (var input in inputs)
        {
            foreach (var output in outputs)
            {
                foreach (var c in concurrencies)
                {
                    for (var r = 0; r < repeats; r++)
                    {
                        var ttft = Noisy(truth.TtftMs(input, output, c));
                        var tpot = Noisy(truth.TpotMs(input, output, c));
                        samples.Add(new ProfileSample(input, output, c, ttft, tpot, ttft + (output - 1) * tpot));
                    }
                }
            }
        }

        return samples;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Fact]
    public void Fit_NoisySyntheticGrid_PredictsHeldOutGridPointsWithinTenPercent()
    {
        var training = Synthetic(seed: 42, noise: 0.08, [128, 512, 2048], [64, 256, 1024], [1, 4, 16, 64], repeats: 3);

        var result = ProfileFitter.Fit(training);

        Assert.True(result.Succeeded, result.Failure);
        var model = result.Fit.Model;
        // Held-out points lie between the training grid's: none of these lengths or loads was measured.
        var ttft = new List<(double, double)>();
        var tpot = new List<(double, double)>();
        var e2e = new List<(double, double)>();
        foreach (var input in new[] { 256, 1024 })
        {
            foreach (var output in new[] { 128, 512 })
            {
                foreach (var c in new[] { 2, 8, 32 })
                {
                    ttft.Add((Truth.TtftMs(input, output, c), model.TtftMs(input, output, c)));
                    tpot.Add((Truth.TpotMs(input, output, c), model.TpotMs(input, output, c)));
                    e2e.Add((Truth.E2eMs(input, output, c), model.E2eMs(input, output, c)));
                }
            }
        }

        Assert.InRange(ProfileFitter.MeanAbsolutePercentageError(ttft), 0, 0.10);
        Assert.InRange(ProfileFitter.MeanAbsolutePercentageError(tpot), 0, 0.10);
        Assert.InRange(ProfileFitter.MeanAbsolutePercentageError(e2e), 0, 0.10);
        foreach (var curve in new[] { result.Fit.Ttft, result.Fit.Tpot, result.Fit.E2e })
        {
            Assert.Equal(FitVerdict.Good, curve.Verdict);
            Assert.Equal(training.Count, curve.Observations);
            // The 8 % noise is what cross-validation should see: about its mean absolute value (~6.4 %).
            Assert.InRange(curve.CrossValidatedMape!.Value, 0.03, 0.10);
            Assert.NotNull(curve.RSquared);
        }
    }

    [Fact]
    public void Fit_NoiselessSamples_RecoversCoefficients()
    {
        var samples = Synthetic(seed: 1, noise: 0, [100, 400, 1600], [32, 300], [1, 3, 9, 27], repeats: 1);

        var fit = ProfileFitter.Fit(samples).Fit!;

        var expected = Truth.ToArray();
        var actual = fit.Model.ToArray();
        for (var j = 0; j < expected.Length; j++)
        {
            Assert.Equal(expected[j], actual[j], expected[j] * 1e-6);
        }

        Assert.Equal(1, fit.E2e.RSquared!.Value, 1e-9);
    }

    // The default sweep grid's shape (ProfileSweepSettings), where 16 prompts of 2048 tokens overrun an 8192-token budget.
    private static readonly int[] GridInputs = [128, 512, 2048];
    private static readonly int[] GridOutputs = [16, 128, 384];
    private static readonly int[] GridLoads = [1, 4, 16];

    [Fact]
    public void Fit_NoiselessSamplesUnderABudget_FindsTheBudgetAndTheCoefficients()
    {
        var truth = Truth with { TtftPrefillTokensPerStep = 8192 };
        var samples = Synthetic(seed: 1, noise: 0, GridInputs, GridOutputs, GridLoads, repeats: 1, truth);

        var fit = ProfileFitter.Fit(samples).Fit!;

        // Every budget in [8192, 10240) batches this grid alike (n = 4 prompts of 2048); the search reports the lower end.
        Assert.Equal(8192, fit.Model.TtftPrefillTokensPerStep);
        var (expected, actual) = (truth.ToArray(), fit.Model.ToArray());
        for (var j = 0; j < expected.Length; j++)
        {
            Assert.Equal(expected[j], actual[j], expected[j] * 1e-6);
        }
    }

    [Fact]
    public void Fit_NoisySamplesUnderABudget_BeatsTheUncappedFormOnHeldOutTtft()
    {
        var truth = Truth with { TtftPrefillTokensPerStep = 8192 };
        var samples = Synthetic(seed: 5, noise: 0.03, GridInputs, GridOutputs, GridLoads, repeats: 3, truth);

        var fit = ProfileFitter.Fit(samples).Fit!;

        Assert.Equal(4, Math.Floor(fit.Model.TtftPrefillTokensPerStep!.Value / 2048));
        // Without the budget the 2048-token prompts at c = 16 are predicted to wait for all 15 others instead of 9.
        Assert.InRange(fit.Ttft.CrossValidatedMape!.Value, 0, 0.04);
        Assert.InRange(fit.Tpot.CrossValidatedMape!.Value, 0, 0.04);
        Assert.InRange(truth.TtftMs(2048, 16, 16) / fit.Model.TtftMs(2048, 16, 16), 0.95, 1.05);
    }

    [Fact]
    public void Fit_GridNeverReachingTheBudget_NoCap()
    {
        // Truth has no budget, and noise must not buy one: the fit keeps the seven-coefficient form.
        var samples = Synthetic(seed: 11, noise: 0.05, GridInputs, GridOutputs, GridLoads, repeats: 3);

        var fit = ProfileFitter.Fit(samples).Fit!;

        Assert.Null(fit.Model.TtftPrefillTokensPerStep);
    }

    [Fact]
    public void Fit_FewTtftObservationsUnderLoad_NoCap()
    {
        // Two TTFTs under load (as LLM-Inference-Bench has one per configuration) cannot identify a budget, even where
        // the truth has one.
        var truth = Truth with { TtftPrefillTokensPerStep = 8192 };
        var samples = Synthetic(seed: 1, noise: 0, GridInputs, GridOutputs, GridLoads, repeats: 1, truth);
        var kept = samples.Where(s => s is { Concurrency: 16, InputTokens: 2048 }).Take(2).ToHashSet();
        var sparse = samples.Select(s => s.Concurrency == 1 || kept.Contains(s) ? s : s with { TtftMs = null, TpotMs = null }).ToList();

        Assert.Equal(8192, ProfileFitter.Fit(samples).Fit!.Model.TtftPrefillTokensPerStep);
        Assert.Null(ProfileFitter.Fit(sparse).Fit!.Model.TtftPrefillTokensPerStep);
    }

    [Fact]
    public void BudgetCandidates_DefaultGrid_TheBreakpointsBelowEachLoad()
    {
        var samples = Synthetic(seed: 1, noise: 0, [512, 2048], [16], [1, 4], repeats: 1);

        // n·L_in for n < c = 4: 512, 1024, 1536 and 2048, 4096, 6144.
        Assert.Equal(new double[] { 512, 1024, 1536, 2048, 4096, 6144 }, ProfileFitter.BudgetCandidates(samples));
        Assert.Empty(ProfileFitter.BudgetCandidates(samples.Select(s => s with { TtftMs = null, TpotMs = null }).ToList()));
    }

    [Fact]
    public void Fit_ErrorSamples_CountedButKeptOutOfTheCurves()
    {
        var good = Synthetic(seed: 7, noise: 0.05, [128, 1024], [64, 512], [1, 8, 32], repeats: 2);
        var withErrors = good.Concat([
            new ProfileSample(1024, 512, 32, 60_000, 500, 300_000, IsError: true),
            new ProfileSample(128, 64, 1, null, null, null, IsError: true),
        ]).ToList();

        var clean = ProfileFitter.Fit(good).Fit!;
        var fit = ProfileFitter.Fit(withErrors).Fit!;

        Assert.Equal(clean.Model, fit.Model);
        Assert.Equal(good.Count, fit.SamplesUsed);
        Assert.Equal(2, fit.ErrorSamples);
        Assert.Equal(2.0 / withErrors.Count, fit.ErrorRate, 12);
    }

    [Fact]
    public void Fit_OnlyErrorSamples_ReturnsFailureWithReason()
    {
        var result = ProfileFitter.Fit([new ProfileSample(10, 10, 1, null, null, null, IsError: true)]);

        Assert.False(result.Succeeded);
        Assert.Contains("None of the 1 samples", result.Failure);
    }

    [Fact]
    public void Fit_OnlyE2eMeasured_TtftAndTpotFlaggedNotValidated()
    {
        var samples = Synthetic(seed: 3, noise: 0.03, [128, 512, 2048], [128, 512, 2048], [1, 16, 64], repeats: 1)
            .Select(s => s with { TtftMs = null, TpotMs = null })
            .ToList();

        var fit = ProfileFitter.Fit(samples).Fit!;

        Assert.Equal(FitVerdict.Good, fit.E2e.Verdict);
        Assert.Null(fit.Model.TtftPrefillTokensPerStep); // a budget only moves work between TTFT and TPOT: e2e cannot tell it
        Assert.Equal(FitVerdict.NotValidated, fit.Ttft.Verdict);
        Assert.Equal(FitVerdict.NotValidated, fit.Tpot.Verdict);
        Assert.True(fit.Ttft.IsFlagged);
        Assert.Equal(0, fit.Ttft.Observations);
        Assert.Null(fit.Ttft.CrossValidatedMape);
        Assert.Contains("No TTFT was measured", fit.Ttft.Note);
    }

    [Fact]
    public void Fit_TtftExplodingWithLoad_FlaggedPoor()
    {
        // Exponential growth in load is outside the (linear-in-load) family: the fit must say so, not hide it.
        var samples = new List<ProfileSample>();
        foreach (var c in new[] { 1, 2, 4, 8, 16, 24, 32 })
        {
            foreach (var input in new[] { 256, 1024 })
            {
                var ttft = 40 * Math.Exp(c / 4.0);
                samples.Add(new ProfileSample(input, 100, c, ttft, 10, ttft + 99 * 10));
            }
        }

        var fit = ProfileFitter.Fit(samples).Fit!;

        Assert.Equal(FitVerdict.Poor, fit.Ttft.Verdict);
        Assert.True(fit.Ttft.CrossValidatedMape > ProfileFitOptions.Default.PoorFitMape);
        Assert.Contains("above the", fit.Ttft.Note);
    }

    [Fact]
    public void Fit_PoorFitThresholdRaised_SameCurveNotFlagged()
    {
        var samples = Synthetic(seed: 5, noise: 0.30, [128, 1024], [64, 512], [1, 8, 32], repeats: 3);

        var strict = ProfileFitter.Fit(samples, new ProfileFitOptions { PoorFitMape = 0.05 }).Fit!;
        var lenient = ProfileFitter.Fit(samples, new ProfileFitOptions { PoorFitMape = 0.90 }).Fit!;

        Assert.Equal(FitVerdict.Poor, strict.Tpot.Verdict);
        Assert.Equal(FitVerdict.Good, lenient.Tpot.Verdict);
        Assert.Equal(strict.Tpot.CrossValidatedMape, lenient.Tpot.CrossValidatedMape);
    }

    [Fact]
    public void Fit_FewerSamplesThanFolds_NotValidated()
    {
        var samples = Synthetic(seed: 9, noise: 0.05, [128, 512], [64, 128], [1], repeats: 1);

        var fit = ProfileFitter.Fit(samples).Fit!;

        Assert.Equal(4, fit.SamplesUsed);
        Assert.Null(fit.E2e.CrossValidatedMape);
        Assert.Equal(FitVerdict.NotValidated, fit.E2e.Verdict);
    }

    [Fact]
    public void AssignFolds_SameSeed_SameBalancedFolds()
    {
        var first = ProfileFitter.AssignFolds(23, 5, seed: 0);
        var again = ProfileFitter.AssignFolds(23, 5, seed: 0);
        var other = ProfileFitter.AssignFolds(23, 5, seed: 1);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.All(first.CountBy(f => f), kv => Assert.InRange(kv.Value, 4, 5));
    }
}
