using Flare.Emulator.Profiles;

namespace Flare.Tests.Emulator.Profiles;

public sealed class EmulatorProfilesTests
{
    [Fact]
    public void All_CalibratedTable_SpansSevenToSeventyBillionOnTwoGpuTypes()
    {
        Assert.True(EmulatorProfiles.All.Count >= 6);
        Assert.Contains(EmulatorProfiles.All, p => p.ParametersBillions < 8);
        Assert.Contains(EmulatorProfiles.All, p => p.ParametersBillions > 65);
        Assert.Equal(["a100", "h100"], EmulatorProfiles.All.Select(p => p.GpuType).Distinct().Order());
        Assert.All(EmulatorProfiles.All, p =>
        {
            Assert.Matches(@"^[a-z0-9.\-]+@(a100|h100)x\d$", p.Name);
            Assert.InRange(p.CalibrationMape, 0, 0.10);
            Assert.True(p.KvCacheTokens >= p.MaxModelLength);
        });
    }

    [Theory]
    [InlineData(7.6, "A100-80GB", 1, "a100", 1)]
    [InlineData(70, "H100-80GB", 2, "h100", 4)]
    [InlineData(8, "NVIDIA H100 80GB HBM3", 1, "h100", 1)]
    public void FindClosest_RegistryDeployment_PicksSameGpuTypeAndNearestSize(double billions, string gpu, int count, string family, int expectedCount)
    {
        var profile = EmulatorProfiles.FindClosest(billions, gpu, count);

        Assert.Equal(family, profile.GpuType);
        Assert.Equal(expectedCount, profile.GpuCount);
        Assert.InRange(profile.ParametersBillions / billions, 0.75, 1.33);
    }

    [Fact]
    public void TryGet_StableName_FindsTheProfile()
    {
        Assert.True(EmulatorProfiles.TryGet("llama-3-8b@h100x1", out var profile));
        Assert.Equal("meta-llama/Meta-Llama-3-8B", profile.ModelId);
        Assert.False(EmulatorProfiles.TryGet("llama-3-8b@tpu", out _));
    }
}
