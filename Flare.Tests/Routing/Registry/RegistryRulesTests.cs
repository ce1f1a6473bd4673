using Flare.Routing.Registry;
using Flare.Tests.Support;

namespace Flare.Tests.Routing.Registry;

public sealed class RegistryRulesTests
{
    [Fact]
    public void Validate_GpuType_SampleIsValid() => Assert.True(RegistryRules.Validate(Samples.A100).IsEmpty);

    [Theory]
    [InlineData(0)]
    [InlineData(-80)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Validate_GpuTypeMemoryNotPositive_ErrorOnMemory(double memory)
    {
        var errors = RegistryRules.Validate(Samples.A100 with { MemoryGiB = memory });
        Assert.Equal(["MemoryGiB"], errors.ToDictionary().Keys);
    }

    [Fact]
    public void Validate_NegativePool_ErrorOnPoolCount()
    {
        var errors = RegistryRules.Validate(Samples.A100 with { PoolCount = -1 });
        Assert.Contains("negative", errors.For("PoolCount"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" padded")]
    [InlineData("tab\there")]
    public void Validate_BadName_ErrorOnName(string name) =>
        Assert.NotNull(RegistryRules.Validate(Samples.Llama8B with { Name = name }).For("Name"));

    [Fact]
    public void Validate_ModelWithOnlyOnePrice_AsksForBoth()
    {
        var errors = RegistryRules.Validate(Samples.Llama8B with { OutputPricePerMTokUsd = null });
        Assert.Contains("both", errors.For("OutputPricePerMTokUsd"));
    }

    [Theory]
    [InlineData("ftp://host/v1")]
    [InlineData("not a url")]
    [InlineData("/v1")]
    [InlineData("http://host/v1?x=1")]
    public void Validate_DeploymentBadBaseUrl_ErrorOnBaseUrl(string url) =>
        Assert.NotNull(RegistryRules.Validate(Samples.SelfHosted(1, 1) with { BaseUrl = url }).For("BaseUrl"));

    [Fact]
    public void Validate_ApiDeploymentWithGpus_Refused()
    {
        var input = Samples.SelfHosted(1, 1) with { Kind = DeploymentKind.Api };
        Assert.NotNull(RegistryRules.Validate(input).For("GpuTypeId"));
        Assert.True(RegistryRules.Validate(input with { GpuTypeId = null, GpuCount = 0 }).IsEmpty);
    }

    [Fact]
    public void Validate_GpuCountNotMultipleOfTensorParallel_ErrorOnTensorParallel()
    {
        var errors = RegistryRules.Validate(Samples.SelfHosted(1, 1, gpus: 3) with { TensorParallel = 2 });
        Assert.Contains("multiple", errors.For("TensorParallel"));
    }

    [Fact]
    public void MemoryFitWarning_70BOnOne80GiBGpu_GivesTheNumbers()
    {
        var model = new Model(1, "llama-70b", "Llama", 70.6, 8192, null, null, []);
        var gpu = new GpuType(1, "A100-80GB", 80, 1.79, 312, 2039, 4);

        var warning = RegistryRules.MemoryFitWarning(model, gpu, 1);

        // 70.6e9 parameters × 2 bytes = 141.2e9 bytes = 131.5 GiB > 80 GiB.
        Assert.NotNull(warning);
        Assert.Contains("131.5 GiB", warning);
        Assert.Contains("80 GiB", warning);
        Assert.Null(RegistryRules.MemoryFitWarning(model, gpu, 2));
    }
}
