using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class LatencyModelTests
{
    private static readonly LatencyModel Model = ProfileFitterTests.Truth;

    [Fact]
    public void E2eMs_Always_TtftPlusRemainingTokensTimesTpot()
    {
        var expected = Model.TtftMs(700, 5) + 299 * Model.TpotMs(5, 700 + 150);

        Assert.Equal(expected, Model.E2eMs(700, 300, 5), 9);
    }

    [Fact]
    public void Curves_MoreLoad_NeverFaster()
    {
        for (var c = 1; c < 64; c++)
        {
            Assert.True(Model.TtftMs(512, c + 1) > Model.TtftMs(512, c));
            Assert.True(Model.TpotMs(c + 1, 600) > Model.TpotMs(c, 600));
        }
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
        // TTFT(512, c) = 35 + 35.84 + (c − 1)·(15.36 + 1.5): c = 5 gives 138.3 ms, c = 6 gives 155.1 ms.
        var slo = new LatencySlo(MaxTtftMs: 150);

        var goodput = Model.Goodput(512, 128, slo, maxConcurrency: 64);

        Assert.NotNull(goodput);
        Assert.Equal(5, goodput.Value.Concurrency);
        Assert.Equal(Model.Throughput(512, 128, 5).RequestsPerSecond, goodput.Value.RequestsPerSecond, 9);
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
