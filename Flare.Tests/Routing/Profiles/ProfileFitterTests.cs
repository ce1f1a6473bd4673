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
    internal static List<ProfileSample> Synthetic(int seed, double noise, int[] inputs, int[] outputs, int[] concurrencies, int repeats)
    {
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
                        var ttft = Noisy(Truth.TtftMs(input, output, c));
                        var tpot = Noisy(Truth.TpotMs(input, output, c));
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
