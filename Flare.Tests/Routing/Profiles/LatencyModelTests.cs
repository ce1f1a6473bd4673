using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class LatencyModelTests
{
    private static readonly LatencyModel Model = ProfileFitterTests.Truth;

    [Fact]
    public void E2eMs_Always_TtftPlusRemainingTokensTimesTpot()
    {
        var expected = Model.TtftMs(700, 300, 5) + 299 * Model.TpotMs(700, 300, 5);

        Assert.Equal(expected, Model.E2eMs(700, 300, 5), 9);
    }

    [Theory]
    [InlineData(512, 128, 1)]
    [InlineData(512, 128, 7.5)]
    [InlineData(2048, 16, 16)]
    [InlineData(2048, 300, 22)]
    [InlineData(100, 1, 4)]
    public void Curves_AnyLoad_EqualTheLinearFormTheFitterRegressesOn(int input, int output, double c)
    {
        var share = Model.PrefillShare(input, output, c);
        var p = Model.ToArray();
        double Dot(double[] features) => features.Select((x, j) => x * p[j]).Sum();

        Assert.Equal(Dot(LatencyModel.TtftFeatures(input, output, c, share)), Model.TtftMs(input, output, c), 9);
        Assert.Equal(Dot(LatencyModel.TpotFeatures(input, output, c, share)), Model.TpotMs(input, output, c), 9);
        Assert.Equal(Dot(LatencyModel.E2eFeatures(input, output, c, share)), Model.E2eMs(input, output, c), 9);
    }

    [Fact]
    public void TtftAndE2e_MoreLoad_NeverFaster()
    {
        foreach (var (input, output) in new[] { (128, 16), (512, 128), (2048, 16), (2048, 1024) })
        {
            for (var c = 1; c < 64; c++)
            {
                Assert.True(Model.TtftMs(input, output, c + 1) >= Model.TtftMs(input, output, c), $"TTFT {input}/{output} at c = {c}");
                Assert.True(Model.E2eMs(input, output, c + 1) >= Model.E2eMs(input, output, c), $"e2e {input}/{output} at c = {c}");
            }
        }
    }

    [Fact]
    public void Tpot_BelowPrefillSaturation_GrowsWithLoad()
    {
        // 512 in · 128 out: the others' prefills fit in a request's decode phase up to c ≈ 20 (R < 1).
        for (var c = 1; c < 16; c++)
        {
            Assert.True(Model.TpotMs(512, 128, c + 1) > Model.TpotMs(512, 128, c));
        }
    }

    [Fact]
    public void PrefillShare_AloneBelowAndAbovePrefillSaturation_ZeroSmallAndNearOne()
    {
        // R = (c − 1)·(a + b·L_in) / ((L_out − 1)·D): 512/128 at c = 4 is 0.18, at c = 64 it is 2.0.
        Assert.Equal(0, Model.PrefillShare(512, 128, 1));
        Assert.InRange(Model.PrefillShare(512, 128, 4), 0, 1e-4);
        Assert.InRange(Model.PrefillShare(512, 128, 64), 0.99, 1);
        Assert.Equal(1, Model.PrefillShare(512, 1, 4));
    }

    [Fact]
    public void TtftMs_PrefillBoundLoad_LongerForShortOutputs()
    {
        // At c = 16 with 2048-token prompts, 16-token answers leave no decode time to hide the others' prefills in
        // (they are waited for before the first token); 1024-token answers do.
        var shortAnswers = Model.TtftMs(2048, 16, 16);
        var longAnswers = Model.TtftMs(2048, 1024, 16);

        Assert.True(shortAnswers > 5 * longAnswers, $"{shortAnswers} vs {longAnswers}");
        Assert.Equal(Model.E2eMs(2048, 16, 16), shortAnswers + 15 * Model.TpotMs(2048, 16, 16), 9);
    }

    [Fact]
    public void Throughput_Always_LittlesLaw()
    {
        var point = Model.Throughput(512, 128, 8);

        Assert.Equal(8 / (Model.E2eMs(512, 128, 8) / 1000), point.RequestsPerSecond, 9);
        Assert.Equal(point.RequestsPerSecond * 128, point.OutputTokensPerSecond, 9);
        Assert.Equal(point.RequestsPerSecond * 640, point.TotalTokensPerSecond, 9);
    }

    [Fact]
    public void SaturationThroughput_WithinMeasuredLoad_BestOverConcurrencies()
    {
        var saturation = Model.SaturationThroughput(512, 128, 16);

        var best = Enumerable.Range(1, 16).Max(c => Model.Throughput(512, 128, c).RequestsPerSecond);
        Assert.Equal(best, saturation.RequestsPerSecond, 9);
        Assert.InRange(saturation.Concurrency, 1, 16);
    }

    [Fact]
    public void Goodput_TtftBound_StopsAtTheLastConcurrencyMeetingIt()
    {
        // TTFT(512, 128, c) grows slowly until prefill saturates (R → 1 at c ≈ 22): c = 19 gives 149.8 ms, c = 20 gives 178.4 ms.
        var slo = new LatencySlo(MaxTtftMs: 150);

        var goodput = Model.Goodput(512, 128, slo, maxConcurrency: 64);

        Assert.NotNull(goodput);
        Assert.Equal(19, goodput.Value.Concurrency);
        Assert.Equal(Model.Throughput(512, 128, 19).RequestsPerSecond, goodput.Value.RequestsPerSecond, 9);
    }

    [Fact]
    public void Goodput_SloMissedByOneRequestAlone_Null() =>
        Assert.Null(Model.Goodput(512, 128, new LatencySlo(MaxTpotMs: 1), maxConcurrency: 64));

    [Fact]
    public void LatencySlo_UnmeasuredValueUnderABound_NotMet()
    {
        var slo = new LatencySlo(MaxTtftMs: 200);

        Assert.True(slo.IsMetBy(150, null, null));
        Assert.False(slo.IsMetBy(null, 10, 1000));
        Assert.False(slo.IsMetBy(250, 10, 1000));
    }

    [Fact]
    public void FromArray_ToArray_RoundTrips() => Assert.Equal(Model, LatencyModel.FromArray(Model.ToArray()));

    [Fact]
    public void FromArray_WithBudget_KeepsItApartFromTheCoefficients()
    {
        var capped = Model with { TtftPrefillTokensPerStep = 8192 };

        Assert.Equal(LatencyModel.ParameterCount, capped.ToArray().Length);
        Assert.Equal(capped, LatencyModel.FromArray(capped.ToArray(), 8192));
    }

    [Theory]
    // n = ⌊M/L_in⌋ prompts a step, k = ⌈c/n⌉ batches; φ = mean over the c requests of the prompts batched with and
    // before each (j·n − 1 in batch j, c − 1 in the last), over c − 1.
    [InlineData(8192, 2048, 16, 0.6)]          // n 4, k 4: the four batches wait for 3, 7, 11, 15 others: mean 9 of 15
    [InlineData(7680, 2048, 16, 135.0 / 16 / 15)] // n 3, k 6, last batch 1: (3·(2 + 5 + 8 + 11 + 14) + 15)/16 = 8.4375 of 15
    [InlineData(7680, 2048, 4, 0.75)]          // n 3, k 2, last 1: (3·2 + 3)/4 = 2.25 of 3
    [InlineData(1000, 2048, 16, 0.5)]          // a prompt over the budget goes alone: n 1, mean wait 7.5 of 15
    [InlineData(8192, 2048, 4, 1)]             // one batch holds all four
    [InlineData(8192, 512, 16, 1)]             // n 16
    [InlineData(8192, 2048, 1, 1)]             // alone
    public void BatchWaitShare_HandComputedCases(double budget, int input, double c, double expected) =>
        Assert.Equal(expected, LatencyModel.BatchWaitShare(budget, input, c), 12);

    [Fact]
    public void BatchWaitShare_NoBudget_One() => Assert.Equal(1, LatencyModel.BatchWaitShare(null, 2048, 16));

    [Fact]
    public void Curves_PrefillBoundUnderABudget_WaitOnlyForTheBatchesUpToTheirOwn()
    {
        // P = 10 + 0.02·2048 = 50.96, D = 4, R = 15·50.96/(15·4) = 12.7 so σ = 1 − 1.4e-9. With M = 8192 the 16 prompts go
        // four at a time and a request waits for φ = 0.6 of the 15 others' prefill work 15·0.02·2048 = 614.4 ms:
        // TTFT = 50.96 + 0.6·614.4 = 419.6 ms, against 50.96 + 614.4 = 665.36 ms without a budget. The other 40 % runs
        // during its decode: TPOT = 4 + 0.4·614.4/15 = 20.384 ms. e2e is the same either way (the work is).
        var uncapped = new LatencyModel(10, 0.02, 0.02, 0, 4, 0, 0);
        var capped = uncapped with { TtftPrefillTokensPerStep = 8192 };

        Assert.Equal(419.6, capped.TtftMs(2048, 16, 16), 5);
        Assert.Equal(665.36, uncapped.TtftMs(2048, 16, 16), 5);
        Assert.Equal(20.384, capped.TpotMs(2048, 16, 16), 5);
        Assert.Equal(4, uncapped.TpotMs(2048, 16, 16), 5);
        Assert.Equal(uncapped.E2eMs(2048, 16, 16), capped.E2eMs(2048, 16, 16), 9);
        Assert.Equal(725.36, capped.E2eMs(2048, 16, 16), 5);
    }

    [Theory]
    [InlineData(2048, 16, 16)]
    [InlineData(2048, 128, 16)]
    [InlineData(512, 16, 16)]
    [InlineData(128, 16, 4)]
    public void Curves_NoBudgetOrOneNeverReached_ReadAsTheSevenCoefficientForm(int input, int output, double c)
    {
        // A fit stored before the budget existed has it null, and one stored before the steepness was stored has k = 8.
        // The seven-coefficient form, written out:
        foreach (var k in new[] { LatencyModel.SwitchSteepness, LatencyModel.EarlierSwitchSteepness })
        {
            var m = Model with { PrefillShareSteepness = k };
            var p = m.TtftBaseMs + m.TtftPerInputTokenMs * input;
            var d = m.TpotBaseMs + m.TpotPerRequestMs * c + m.TpotPerContextTokenMs * c * (input + output / 2.0);
            var r = Math.Pow((c - 1) * p / ((output - 1) * d), k);
            var sigma = r / (1 + r);
            var ttft = p + sigma * (c - 1) * m.TtftPerQueuedInputTokenMs * input + m.TtftPerQueuedRequestMs * (c - 1) + (1 - sigma) * d / 2;
            var tpot = d + (1 - sigma) * (c - 1) * m.TtftPerQueuedInputTokenMs * input / (output - 1);
            var neverReached = m with { TtftPrefillTokensPerStep = c * input };

            Assert.Null(m.TtftPrefillTokensPerStep);
            foreach (var model in new[] { m, neverReached })
            {
                Assert.Equal(ttft, model.TtftMs(input, output, c), 9);
                Assert.Equal(tpot, model.TpotMs(input, output, c), 9);
            }
        }
    }

    [Theory]
    [InlineData(2048, 16, 16)]
    [InlineData(2048, 300, 22)]
    [InlineData(700, 40, 9)]
    public void Curves_UnderABudget_EqualTheLinearFormTheFitterRegressesOn(int input, int output, double c)
    {
        var capped = Model with { TtftPrefillTokensPerStep = 4096 };
        var share = capped.PrefillShare(input, output, c);
        var batchShare = LatencyModel.BatchWaitShare(4096, input, c);
        var p = capped.ToArray();
        double Dot(double[] features) => features.Select((x, j) => x * p[j]).Sum();

        Assert.True(batchShare < 1);
        Assert.Equal(Dot(LatencyModel.TtftFeatures(input, output, c, share, batchShare)), capped.TtftMs(input, output, c), 9);
        Assert.Equal(Dot(LatencyModel.TpotFeatures(input, output, c, share, batchShare)), capped.TpotMs(input, output, c), 9);
        Assert.Equal(Dot(LatencyModel.E2eFeatures(input, output, c, share, batchShare)), capped.E2eMs(input, output, c), 9);
    }
}
