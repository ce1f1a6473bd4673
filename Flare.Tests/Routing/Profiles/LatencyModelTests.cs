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
        // TTFT(512, 128, c) grows slowly until prefill saturates (R → 1 at c ≈ 22): c = 17 gives 134.1 ms, c = 18 gives 151.7 ms.
        var slo = new LatencySlo(MaxTtftMs: 150);

        var goodput = Model.Goodput(512, 128, slo, maxConcurrency: 64);

        Assert.NotNull(goodput);
        Assert.Equal(17, goodput.Value.Concurrency);
        Assert.Equal(Model.Throughput(512, 128, 17).RequestsPerSecond, goodput.Value.RequestsPerSecond, 9);
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
}
