using Flare.Data.Registry;
using Flare.Routing.Registry;
using Microsoft.EntityFrameworkCore;

namespace Flare.Data.Demo;

/// <summary>
/// The small, realistic fleet a new installation starts with so that traffic flows at once: two GPU
/// types with their datasheet memory, bf16 peak and bandwidth and typical on-demand cloud prices; six
/// open models with the per-token API prices of the LLMRouter price table; and emulated deployments.
/// Seeded exactly once per database: later starts never touch what the operator has changed.
/// </summary>
public static class DemoFleet
{
    /// <summary>Fact key written when the demo fleet has been seeded (or deliberately skipped).</summary>
    public const string SeededFactKey = "demo.seeded";

    // NVIDIA datasheets: A100 SXM 80GB 312 TFLOP/s bf16 dense, 2,039 GB/s; H100 SXM 989 TFLOP/s, 3,350 GB/s.
    // Prices: typical public on-demand per-GPU list prices (2025); operators should enter their own.
    private static readonly GpuTypeInput[] Gpus =
    [
        new() { Name = "A100-80GB", MemoryGiB = 80, PricePerHourUsd = 1.79, PeakBf16Tflops = 312, MemoryBandwidthGBs = 2039, PoolCount = 4 },
        new() { Name = "H100-80GB", MemoryGiB = 80, PricePerHourUsd = 2.99, PeakBf16Tflops = 989, MemoryBandwidthGBs = 3350, PoolCount = 4 },
    ];

    private static readonly ModelInput[] Models =
    [
        new() { Name = "qwen2.5-7b-instruct", Family = "Qwen2.5", ParameterCountBillions = 7.6, ContextLength = 32768, InputPricePerMTokUsd = 0.20, OutputPricePerMTokUsd = 0.20, Tags = ["chat", "small"] },
        new() { Name = "llama-3.1-8b-instruct", Family = "Llama 3.1", ParameterCountBillions = 8.0, ContextLength = 131072, InputPricePerMTokUsd = 0.20, OutputPricePerMTokUsd = 0.20, Tags = ["chat", "small"] },
        new() { Name = "mistral-7b-instruct-v0.3", Family = "Mistral", ParameterCountBillions = 7.2, ContextLength = 32768, InputPricePerMTokUsd = 0.20, OutputPricePerMTokUsd = 0.20, Tags = ["chat", "small"] },
        new() { Name = "gemma-2-9b-it", Family = "Gemma 2", ParameterCountBillions = 9.2, ContextLength = 8192, InputPricePerMTokUsd = 0.10, OutputPricePerMTokUsd = 0.10, Tags = ["chat", "small"] },
        new() { Name = "llama-3.3-nemotron-super-49b-v1", Family = "Llama 3.3 Nemotron", ParameterCountBillions = 49.9, ContextLength = 131072, InputPricePerMTokUsd = 0.90, OutputPricePerMTokUsd = 0.90, Tags = ["chat", "large", "reasoning"] },
        new() { Name = "llama3-chatqa-1.5-70b", Family = "Llama 3 ChatQA", ParameterCountBillions = 70.6, ContextLength = 8192, InputPricePerMTokUsd = 0.90, OutputPricePerMTokUsd = 0.90, Tags = ["qa", "large"] },
    ];

    private static readonly (string Name, string Model, string Gpu, int Count)[] Deployments =
    [
        ("qwen2.5-7b@a100", "qwen2.5-7b-instruct", "A100-80GB", 1),
        ("llama-3.1-8b@a100", "llama-3.1-8b-instruct", "A100-80GB", 1),
        ("mistral-7b@a100", "mistral-7b-instruct-v0.3", "A100-80GB", 1),
        ("gemma-2-9b@a100", "gemma-2-9b-it", "A100-80GB", 1),
        ("nemotron-49b@h100x2", "llama-3.3-nemotron-super-49b-v1", "H100-80GB", 2),
        ("chatqa-70b@h100x2", "llama3-chatqa-1.5-70b", "H100-80GB", 2),
    ];

    /// <summary>
    /// Seeds the demo fleet when this database has never been seeded and its registry is empty.
    /// Returns whether it seeded. The fleet and the fact that it was seeded are one SaveChanges, so one
    /// transaction: a crash leaves either all of it or none.
    /// </summary>
    /// <param name="emulatorBaseUrl">Where the emulated deployments' OpenAI-compatible servers listen.</param>
    public static async Task<bool> SeedOnceAsync(FlareDbContext db, string emulatorBaseUrl, TimeProvider time, CancellationToken ct = default)
    {
        if (await db.InstallationFacts.AnyAsync(f => f.Key == SeededFactKey, ct))
        {
            return false;
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (await db.GpuTypes.AnyAsync(ct) || await db.Models.AnyAsync(ct) || await db.Deployments.AnyAsync(ct))
        {
            // The operator registered things before the demo was switched on: leave them alone for good.
            db.InstallationFacts.Add(new InstallationFact { Key = SeededFactKey, Value = "skipped: registry not empty", UpdatedUtc = now });
            await db.SaveChangesAsync(ct);
            return false;
        }

        var gpus = Gpus.ToDictionary(g => g.Name, g => new GpuTypeEntity
        {
            Name = Checked(g, RegistryRules.Validate(g)).Name,
            MemoryGiB = g.MemoryGiB,
            PricePerHourUsd = g.PricePerHourUsd,
            PeakBf16Tflops = g.PeakBf16Tflops,
            MemoryBandwidthGBs = g.MemoryBandwidthGBs,
            PoolCount = g.PoolCount ?? 0,
            CreatedUtc = now,
            UpdatedUtc = now,
        });
        var models = Models.ToDictionary(m => m.Name, m => new ModelEntity
        {
            Name = Checked(m, RegistryRules.Validate(m)).Name,
            Family = m.Family,
            ParameterCountBillions = m.ParameterCountBillions,
            ContextLength = m.ContextLength,
            InputPricePerMTokUsd = m.InputPricePerMTokUsd,
            OutputPricePerMTokUsd = m.OutputPricePerMTokUsd,
            Tags = string.Join(',', m.Tags ?? []),
            CreatedUtc = now,
            UpdatedUtc = now,
        });
        foreach (var (name, model, gpu, count) in Deployments)
        {
            db.Deployments.Add(new DeploymentEntity
            {
                Name = name,
                Model = models[model],
                Kind = DeploymentKind.Emulated,
                BaseUrl = $"{emulatorBaseUrl.TrimEnd('/')}/{name}/v1",
                ServedModelName = model,
                GpuType = gpus[gpu],
                GpuCount = count,
                TensorParallel = count,
                MaxConcurrency = 256,
                Enabled = true,
                Emulator = EmulatorSettings.Default,
                CreatedUtc = now,
                UpdatedUtc = now,
            });
        }

        db.GpuTypes.AddRange(gpus.Values);
        db.Models.AddRange(models.Values);
        db.InstallationFacts.Add(new InstallationFact { Key = SeededFactKey, Value = "seeded", UpdatedUtc = now });
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static T Checked<T>(T input, FieldErrors errors) =>
        errors.IsEmpty ? input : throw new InvalidOperationException($"Demo fleet entry {input} is invalid: {errors}");
}
