namespace Flare.Emulator.Profiles;

/// <summary>The built-in, calibrated profiles and lookups over them.</summary>
public static class EmulatorProfiles
{
    private static readonly Dictionary<string, EmulatorProfile> ByName =
        CalibratedProfiles.Table.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every built-in profile, in a stable order.</summary>
    public static IReadOnlyList<EmulatorProfile> All { get; } = CalibratedProfiles.Table;

    /// <summary>Finds a profile by its name (case-insensitive), e.g. <c>llama-3-8b@h100x1</c>.</summary>
    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EmulatorProfile? profile) =>
        ByName.TryGetValue(name, out profile);

    /// <summary>
    /// The profile closest to a deployment: same GPU type preferred, then the nearest model size and GPU
    /// count on a log scale (2× off in size weighs as much as 2× off in GPU count).
    /// </summary>
    /// <param name="parametersBillions">Model size in billions of parameters (e.g. 7.6 for qwen2.5-7b).</param>
    /// <param name="gpuType">GPU type as a registry names it, e.g. <c>A100-80GB</c> or <c>H100-80GB</c>; matched on the family (a100, h100).</param>
    /// <param name="gpuCount">Number of GPUs of the deployment.</param>
    public static EmulatorProfile FindClosest(double parametersBillions, string gpuType, int gpuCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parametersBillions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gpuCount);
        var family = GpuFamily(gpuType);
        return All.MinBy(p =>
            (p.GpuType == family ? 0.0 : 10.0)
            + Math.Abs(Math.Log2(parametersBillions / p.ParametersBillions))
            + Math.Abs(Math.Log2((double)gpuCount / p.GpuCount)))!;
    }

    /// <summary>Normalizes a GPU type name to a family: "A100-80GB" and "NVIDIA A100" give <c>a100</c>.</summary>
    public static string GpuFamily(string gpuType)
    {
        var lower = gpuType.ToLowerInvariant();
        foreach (var family in new[] { "h100", "a100", "gh200", "l40s", "l4", "a10" })
        {
            if (lower.Contains(family, StringComparison.Ordinal))
            {
                return family;
            }
        }

        return lower;
    }
}
