using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class RateLatencyCurveTests
{
    private static readonly RateLatencyCurve Curve = RateLatencyCurve.FromPoints([new(1, 100), new(3, 140), new(4, 200)]);

    [Theory]
    [InlineData(0.0, 100)] // below the first point: flat
    [InlineData(1.0, 100)]
    [InlineData(2.0, 120)]
    [InlineData(3.5, 170)]
    [InlineData(4.0, 200)]
    [InlineData(5.0, 260)] // beyond: the last segment's slope, 60 ms per request/s
    public void LatencyMs_ExtendLastSlope_InterpolatesAndExtrapolates(double rate, double expected) =>
        Assert.Equal(expected, Curve.LatencyMs(rate), 9);

    [Fact]
    public void LatencyMs_InfiniteBeyond_RateAboveMeasuredIsInfeasible()
    {
        var curve = RateLatencyCurve.FromPoints([new(1, 100), new(4, 200)], RateExtrapolation.Infinite);

        Assert.Equal(200, curve.LatencyMs(4));
        Assert.Equal(double.PositiveInfinity, curve.LatencyMs(4.01));
    }

    [Fact]
    public void FromPoints_LatencyDipsWithLoad_MadeMonotoneByPooling()
    {
        var curve = RateLatencyCurve.FromPoints([new(1, 100), new(2, 150, Weight: 1), new(3, 130, Weight: 3), new(4, 300)]);

        Assert.Equal([100, 135, 135, 300], curve.Points.Select(p => p.LatencyMs));
        Assert.Equal(135, curve.LatencyMs(2.5), 9);
    }

    [Fact]
    public void FromSamples_ConcurrencyLevels_RateByLittlesLaw()
    {
        ProfileSample At(int c, double ttft, double e2e) => new(512, 128, c, ttft, null, e2e);
        var samples = new[] { At(1, 50, 1000), At(1, 70, 1000), At(4, 90, 2000), At(4, 110, 2000), new ProfileSample(512, 128, 4, null, null, null, IsError: true) };

        var curve = RateLatencyCurve.FromSamples(samples, LatencyMetric.Ttft)!;

        Assert.Equal([(1.0, 60.0), (2.0, 100.0)], curve.Points.Select(p => (p.RequestsPerSecond, p.LatencyMs)));
    }

    [Fact]
    public void FromModel_FittedCurves_RatesAndLatenciesMatchModel()
    {
        var model = ProfileFitterTests.Truth;

        var curve = RateLatencyCurve.FromModel(model, 512, 128, LatencyMetric.E2e, maxConcurrency: 8);

        Assert.Equal(8, curve.Points.Count);
        var at4 = model.Throughput(512, 128, 4).RequestsPerSecond;
        Assert.Equal(model.E2eMs(512, 128, 4), curve.LatencyMs(at4), 6);
    }
}
