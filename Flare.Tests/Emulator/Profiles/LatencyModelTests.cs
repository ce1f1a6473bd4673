using Flare.Emulator.Profiles;

namespace Flare.Tests.Emulator.Profiles;

public sealed class LatencyModelTests
{
    [Theory]
    [InlineData(1, 512, 128)]
    [InlineData(16, 512, 128)]
    [InlineData(8, 1000, 300)]
    public void PredictBurst_SingleStepBurst_MatchesTheSchedulerInVirtualTime(int concurrency, int input, int output)
    {
        var profile = EmulatorProfiles.All.First(p => p.Name == "llama-3-8b@h100x1");

        var closed = LatencyModel.PredictBurst(profile, concurrency, input, output, 2)!.Value;
        var simulated = LatencyModel.SimulateBurst(profile, concurrency, input, output, 2);

        Assert.Equal(simulated.MeanTtftMs, closed.MeanTtftMs, 6);
        Assert.Equal(simulated.MeanTpotMs, closed.MeanTpotMs, 6);
        Assert.Equal(simulated.BatchLatencyMs, closed.BatchLatencyMs, 6);
    }

    [Fact]
    public void SimulateBurst_RisingConcurrency_TpotRisesAndThroughputSaturates()
    {
        var profile = EmulatorProfiles.All.First(p => p.Name == "llama-2-7b@a100x1");

        var throughput = new[] { 1, 16, 64, 256 }
            .Select(c => (c, p: LatencyModel.SimulateBurst(profile, c, 512, 512, 0)))
            .Select(x => (x.c, x.p.MeanTpotMs, TokensPerSecond: x.c * 1024 / (x.p.BatchLatencyMs / 1000)))
            .ToList();

        Assert.True(throughput.Zip(throughput.Skip(1)).All(p => p.Second.MeanTpotMs > p.First.MeanTpotMs));
        Assert.True(throughput[1].TokensPerSecond > 8 * throughput[0].TokensPerSecond);
        Assert.InRange(throughput[3].TokensPerSecond / throughput[2].TokensPerSecond, 0.95, 1.25);
    }
}
