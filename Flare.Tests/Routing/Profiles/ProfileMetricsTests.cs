using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class ProfileMetricsTests
{
    [Fact]
    public void GoodputFromSamples_ErrorsAndSlowRequests_CountAsMisses()
    {
        // Level c = 4: 4 / 2 s = 2 req/s; of its 4 requests one is too slow and one failed → 2 · 2/4 = 1 req/s.
        // Level c = 1: 1 / 1 s = 1 req/s, all meet → 1 req/s. Level c = 8: 8 / 4 s = 2 req/s, none meet.
        var samples = new[]
        {
            new ProfileSample(100, 50, 1, 80, 10, 1000),
            new ProfileSample(100, 50, 4, 90, 20, 2000),
            new ProfileSample(100, 50, 4, 95, 20, 2000),
            new ProfileSample(100, 50, 4, 400, 20, 2000),
            new ProfileSample(100, 50, 4, null, null, null, IsError: true),
            new ProfileSample(100, 50, 8, 500, 40, 4000),
        };

        var goodput = ProfileMetrics.GoodputFromSamples(samples, new LatencySlo(MaxTtftMs: 100));

        Assert.Equal(1.0, goodput!.Value, 9);
    }

    [Fact]
    public void MeasuredThroughput_RecordedRate_PreferredToLittlesLaw()
    {
        var samples = new[]
        {
            new ProfileSample(100, 50, 2, 80, 10, 1000, RequestRatePerSecond: 1.5),
            new ProfileSample(100, 50, 2, 80, 10, 1000, RequestRatePerSecond: 1.5),
            new ProfileSample(100, 50, 6, 80, 10, 2000),
        };

        var points = ProfileMetrics.MeasuredThroughput(samples);

        Assert.Equal([(2.0, 1.5), (6.0, 3.0)], points.Select(p => (p.Concurrency, p.RequestsPerSecond)));
        Assert.Equal(150, points[1].OutputTokensPerSecond, 9);
    }
}
