using Flare.Emulator.Engine;
using Flare.Emulator.Hosting;
using Flare.Emulator.Profiles;

namespace Flare.Tests.Emulator.Engine;

public sealed class RequestPlanTests
{
    [Fact]
    public void For_ErrorRate_FailsTheConfiguredShareOfRequests()
    {
        var faults = new EmulatorFaultOptions { ErrorRate = 0.2, ErrorStatusCode = 429 };

        var failed = Enumerable.Range(1, 10_000).Count(n => RequestPlan.For(5, n, faults).ErrorStatus == 429);

        Assert.InRange(failed, 1_850, 2_150);
    }

    [Fact]
    public void For_DifferentSeeds_PickDifferentRequests()
    {
        var faults = new EmulatorFaultOptions { ErrorRate = 0.5 };

        var a = Enumerable.Range(1, 64).Select(n => RequestPlan.For(1, n, faults).ErrorStatus.HasValue).ToList();
        var b = Enumerable.Range(1, 64).Select(n => RequestPlan.For(2, n, faults).ErrorStatus.HasValue).ToList();

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void OutputTokens_DrawnLengths_FollowTheProfileLognormal()
    {
        var profile = EmulatorProfiles.All[0];

        var lengths = Enumerable.Range(1, 20_000)
            .Select(n => RequestPlan.For(3, n, EmulatorFaultOptions.None).OutputTokens(profile, 100_000, 0, false, null))
            .ToList();

        var logs = lengths.Select(l => Math.Log(l)).ToList();
        Assert.Equal(profile.OutputLogMean, logs.Average(), 1);
        Assert.Equal(Math.Exp(profile.OutputLogMean), lengths.Order().ElementAt(lengths.Count / 2), Math.Exp(profile.OutputLogMean) * 0.05);
    }

    [Theory]
    [InlineData(50, 0, true, null, 50)]
    [InlineData(50, 50, false, null, 50)]
    [InlineData(50, 0, false, 12, 12)]
    [InlineData(50, 0, true, 80, 50)]
    public void OutputTokens_ForcedOrIgnoreEos_IsExact(int max, int min, bool ignoreEos, int? forced, int expected)
    {
        var plan = RequestPlan.For(0, 1, EmulatorFaultOptions.None);

        Assert.Equal(expected, plan.OutputTokens(EmulatorProfiles.All[0], max, min, ignoreEos, forced));
    }
}
