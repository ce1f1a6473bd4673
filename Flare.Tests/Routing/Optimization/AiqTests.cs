using Flare.Routing.Optimization;

namespace Flare.Tests.Routing.Optimization;

public sealed class AiqTests
{
    private static readonly CostQuality A = new(1, 0.5);
    private static readonly CostQuality B = new(3, 0.8);

    [Fact]
    public void Compute_TwoSingleModels_TrapezoidOverTheRange() =>
        // (0.5 + 0.8) / 2 × 2 / 2
        Assert.Equal(0.65, Aiq.Compute([A, B], 1, 3), 12);

    [Fact]
    public void Compute_RouterPointAboveTheChord_RaisesAiq() =>
        // (0.5 + 0.75) / 2 + (0.75 + 0.8) / 2, over a width of 2
        Assert.Equal(0.7, Aiq.Compute([A, B, new(2, 0.75)], 1, 3), 12);

    [Fact]
    public void Compute_PointUnderTheChord_Ignored() =>
        Assert.Equal(0.65, Aiq.Compute([A, B, new(2, 0.6)], 1, 3), 12);

    [Fact]
    public void Compute_CurveStartsInsideTheRange_ZeroQualityLeftOfIt() =>
        Assert.Equal(0.45, Aiq.Compute([new(2, 0.9)], 1, 3), 12);

    [Fact]
    public void Compute_CheaperPointIsBetter_FlatAtItsQuality()
    {
        Assert.Equal(0.9, Aiq.Compute([new(1, 0.9), B], 1, 3), 12);
        Assert.Equal([new CostQuality(1, 0.9)], Aiq.Hull([new(1, 0.9), B]));
    }

    [Fact]
    public void Compute_PointsOutsideTheRange_OnlyTheirSegmentsInsideCount() =>
        // Segment (0, 0.1)-(4, 0.9) seen over [1, 3]: from 0.3 to 0.7, mean 0.5.
        Assert.Equal(0.5, Aiq.Compute([new(0, 0.1), new(4, 0.9)], 1, 3), 12);

    [Fact]
    public void Compute_EmptyRange_Refused() =>
        Assert.Throws<ArgumentException>(() => Aiq.Compute([A], 2, 2));
}
