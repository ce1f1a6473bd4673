using System.ComponentModel.DataAnnotations;

namespace Flare.Emulator.Hosting;

/// <summary>How one emulated backend (one deployment) behaves.</summary>
public sealed record EmulatorBackendOptions
{
    /// <summary>Name of a built-in profile (see <see cref="Profiles.EmulatorProfiles.All"/>), e.g. <c>llama-3-8b@h100x1</c>. Required.</summary>
    [Required]
    public string Profile { get; init; } = "";

    /// <summary>Speed-up applied to every simulated delay: 10 makes everything 10× faster. Default 1 (real time).</summary>
    [Range(1e-3, 1e6)]
    public double TimeScale { get; init; } = 1.0;

    /// <summary>Seed of the output-length draws and of the fault decisions. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Faults to inject. Default none.</summary>
    public EmulatorFaultOptions Faults { get; init; } = EmulatorFaultOptions.None;

    /// <summary>Model names listed by <c>/v1/models</c>. Default: the profile's model id. Requests may name any model; it is echoed back.</summary>
    public IReadOnlyList<string>? ServedModelNames { get; init; }

    /// <summary>
    /// Delay between an idle engine receiving a request and starting its first step, milliseconds (simulated
    /// time, divided by <see cref="TimeScale"/>). Stands for vLLM's engine-loop wake-up and lets a burst of
    /// requests be prefilled together. Default 2.
    /// </summary>
    [Range(0.0, 1000.0)]
    public double WakeDelayMs { get; init; } = 2.0;
}
