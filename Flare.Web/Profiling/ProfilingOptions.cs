using System.ComponentModel.DataAnnotations;
using Flare.Data.Profiling;

namespace Flare.Web.Profiling;

/// <summary>
/// Profiling settings: section <c>Flare:Profiling</c>. The grid fields override the defaults of
/// <see cref="ProfileSweepSettings"/> for runs started without settings (the UI's form starts from them too);
/// left unset, the built-in defaults hold.
/// </summary>
public sealed class ProfilingOptions
{
    public const string Section = "Flare:Profiling";

    /// <summary>Default prompt lengths, tokens. Default (unset): 128, 512, 2048.</summary>
    public int[]? InputLengths { get; set; }

    /// <summary>Default output lengths, tokens. Default (unset): 16, 128, 384.</summary>
    public int[]? OutputLengths { get; set; }

    /// <summary>Default concurrency levels. Default (unset): 1, 4, 16.</summary>
    public int[]? Concurrency { get; set; }

    /// <summary>Default Poisson request rates per second (a rate sweep instead of concurrency). Default (unset): none.</summary>
    public double[]? RequestRates { get; set; }

    /// <summary>Default measured requests per cell. Default (unset): 8.</summary>
    [Range(1, 100_000)]
    public int? RequestsPerCell { get; set; }

    /// <summary>Default warm-up requests (rounds, at a concurrency level) per cell. Default (unset): 1.</summary>
    [Range(0, 1000)]
    public int? WarmupRequests { get; set; }

    /// <summary>Default time limit of a run, minutes. Default (unset): 30.</summary>
    [Range(0.01, 10_080)]
    public double? TimeLimitMinutes { get; set; }

    /// <summary>Samples are written to the database at least this often while a run is live, seconds. Default 1.</summary>
    [Range(0.05, 60)]
    public double FlushIntervalSeconds { get; set; } = 1;

    /// <summary>…or as soon as this many are waiting. Default 200.</summary>
    [Range(1, 100_000)]
    public int FlushBatchSize { get; set; } = 200;

    /// <summary>The sweep settings a run gets when none are given.</summary>
    public ProfileSweepSettings DefaultSettings()
    {
        var s = new ProfileSweepSettings();
        return s with
        {
            InputLengths = InputLengths is { Length: > 0 } i ? i : s.InputLengths,
            OutputLengths = OutputLengths is { Length: > 0 } o ? o : s.OutputLengths,
            Concurrency = Concurrency is { Length: > 0 } c ? c : s.Concurrency,
            RequestRates = RequestRates is { Length: > 0 } r ? r : s.RequestRates,
            RequestsPerCell = RequestsPerCell ?? s.RequestsPerCell,
            WarmupRequests = WarmupRequests ?? s.WarmupRequests,
            TimeLimitMinutes = TimeLimitMinutes ?? s.TimeLimitMinutes,
        };
    }
}
