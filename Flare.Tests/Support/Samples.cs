using Flare.Data.Registry;
using Flare.Routing.Registry;

namespace Flare.Tests.Support;

/// <summary>Valid registry inputs that tests start from and change one field of.</summary>
public static class Samples
{
    public static GpuTypeInput A100 => new() { Name = "A100-80GB", MemoryGiB = 80, PricePerHourUsd = 1.79, PeakBf16Tflops = 312, MemoryBandwidthGBs = 2039, PoolCount = 4 };

    public static GpuTypeInput L4 => new() { Name = "L4-24GB", MemoryGiB = 24, PricePerHourUsd = 0.8, PeakBf16Tflops = 121, MemoryBandwidthGBs = 300, PoolCount = 2 };

    public static ModelInput Llama8B => new() { Name = "llama-3.1-8b-instruct", Family = "Llama 3.1", ParameterCountBillions = 8, ContextLength = 131072, InputPricePerMTokUsd = 0.2, OutputPricePerMTokUsd = 0.2, Tags = ["chat"] };

    public static ModelInput Llama70B => new() { Name = "llama-3.1-70b-instruct", Family = "Llama 3.1", ParameterCountBillions = 70.6, ContextLength = 131072 };

    public static DeploymentInput SelfHosted(int modelId, int gpuTypeId, string name = "llama-8b@a100", int gpus = 1) => new()
    {
        Name = name,
        ModelId = modelId,
        Kind = DeploymentKind.SelfHosted,
        BaseUrl = "http://10.0.0.5:8000/v1",
        ServedModelName = "meta-llama/Llama-3.1-8B-Instruct",
        GpuTypeId = gpuTypeId,
        GpuCount = gpus,
        TensorParallel = gpus,
        MaxConcurrency = 64,
    };

    /// <summary>A GPU type, a model and a deployment of it, created through the store.</summary>
    public static async Task<(GpuTypeView Gpu, ModelView Model, DeploymentView Deployment)> FleetAsync(RegistryStore store)
    {
        var gpu = (await store.CreateGpuTypeAsync(A100)).Value!;
        var model = (await store.CreateModelAsync(Llama8B)).Value!;
        var deployment = (await store.CreateDeploymentAsync(SelfHosted(model.Id, gpu.Id))).Value!;
        return (gpu, model, deployment);
    }
}
