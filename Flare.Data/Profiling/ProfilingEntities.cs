using Flare.Data.Registry;
using Flare.Routing.Profiles;

namespace Flare.Data.Profiling;

/// <summary>Where a profiling run is.</summary>
public enum ProfileRunStatus
{
    /// <summary>Waiting for a job worker.</summary>
    Queued,
    /// <summary>Sending requests and recording samples.</summary>
    Running,
    /// <summary>Every cell of the grid was measured.</summary>
    Completed,
    /// <summary>Stopped by an operator; resumable.</summary>
    Cancelled,
    /// <summary>Cut off by a restart of Flare; resumable, nothing recorded is lost.</summary>
    Interrupted,
    /// <summary>Stopped by an error it could not measure through; resumable.</summary>
    Failed,
    /// <summary>Stopped at the run's time limit; resumable.</summary>
    TimedOut,
}

/// <summary>Where a run's samples came from.</summary>
public enum ProfileRunSource
{
    /// <summary>A sweep Flare sent to the deployment.</summary>
    Sweep,
    /// <summary>A CSV of measurements imported by an operator.</summary>
    Import,
}

/// <summary>One profiling run of one deployment: a sweep (or an import) and its progress.</summary>
public sealed class ProfileRunEntity
{
    public int Id { get; set; }
    public int DeploymentId { get; set; }
    public DeploymentEntity? Deployment { get; set; }
    public ProfileRunSource Source { get; set; }
    public ProfileRunStatus Status { get; set; }

    /// <summary>The <see cref="ProfileSweepSettings"/> as JSON (imports: the defaults, unused).</summary>
    public string Settings { get; set; } = "{}";
    public int CellsTotal { get; set; }
    public int CellsDone { get; set; }
    public int SamplesRecorded { get; set; }
    public int ErrorCount { get; set; }

    /// <summary>Set by a cancel request; the runner stops at once in this process, and at its next write in any other.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>Why the run ended as it did, or what an import read, for the operator.</summary>
    public string? Message { get; set; }
    public string? JobId { get; set; }
    public DateTime CreatedUtc { get; set; }
    public DateTime? StartedUtc { get; set; }
    public DateTime? FinishedUtc { get; set; }
    public DateTime UpdatedUtc { get; set; }
}

/// <summary>One measured request of a run (ROUTING.md §3). Milliseconds; null when not measured.</summary>
public sealed class ProfileSampleEntity
{
    public long Id { get; set; }
    public int RunId { get; set; }
    public int CellIndex { get; set; }
    public int InputTokens { get; set; }
    public int OutputTokens { get; set; }
    public double Concurrency { get; set; }
    public double? RequestRatePerSecond { get; set; }
    public double? TtftMs { get; set; }
    public double? TpotMs { get; set; }
    public double? E2eMs { get; set; }

    /// <summary>Median gap between streamed tokens, ms.</summary>
    public double? ItlP50Ms { get; set; }

    /// <summary>95th-percentile gap between streamed tokens, ms.</summary>
    public double? ItlP95Ms { get; set; }

    /// <summary>Longest gap between streamed tokens, ms.</summary>
    public double? ItlMaxMs { get; set; }
    public bool IsError { get; set; }
    public string? Error { get; set; }
    public DateTime StartedUtc { get; set; }
}

/// <summary>A grid cell of a run whose measured requests are all recorded: a resumed run skips it.</summary>
public sealed class ProfileCellEntity
{
    public int RunId { get; set; }
    public int CellIndex { get; set; }
    public DateTime CompletedUtc { get; set; }
}

/// <summary>One version of a deployment's fitted curves; one per deployment is active.</summary>
public sealed class ProfileFitEntity
{
    public int Id { get; set; }
    public int DeploymentId { get; set; }
    public int Version { get; set; }

    /// <summary>The run whose samples were fitted.</summary>
    public int? RunId { get; set; }
    public bool IsActive { get; set; }
    public DateTime CreatedUtc { get; set; }

    // LatencyModel coefficients (ms), in its order a, b, g, h, d, e, f.
    public double TtftBaseMs { get; set; }
    public double TtftPerInputTokenMs { get; set; }
    public double TtftPerQueuedInputTokenMs { get; set; }
    public double TtftPerQueuedRequestMs { get; set; }
    public double TpotBaseMs { get; set; }
    public double TpotPerRequestMs { get; set; }
    public double TpotPerContextTokenMs { get; set; }

    /// <summary>LatencyModel's prefill token budget M (tokens per step); null for no cap, as every fit stored before the
    /// column existed reads.</summary>
    public double? TtftPrefillTokensPerStep { get; set; }

    /// <summary>LatencyModel's exponent k of σ, the share of the others' prompt work a request waits for; fits stored before
    /// the column existed were made with 8 (the migration fills that in).</summary>
    public double PrefillShareSteepness { get; set; } = LatencyModel.SwitchSteepness;

    /// <summary>Per-curve quality (observations, R², MAPE, CV MAPE, verdict, note) as JSON.</summary>
    public string Quality { get; set; } = "{}";
    public double? TtftCvMape { get; set; }
    public double? TpotCvMape { get; set; }
    public double? E2eCvMape { get; set; }
    public bool IsFlagged { get; set; }
    public int SamplesUsed { get; set; }
    public int ErrorSamples { get; set; }
    public double MaxConcurrency { get; set; }

    /// <summary>The request shape the throughput and cost figures are for (the run's median lengths).</summary>
    public int ReferenceInputTokens { get; set; }
    public int ReferenceOutputTokens { get; set; }
    public double? SaturationRequestsPerSecond { get; set; }
    public double? SaturationOutputTokensPerSecond { get; set; }

    /// <summary>USD per request of the reference shape: API prices, else GPU $/hour × GPUs / saturation throughput.</summary>
    public double? CostPerRequestUsd { get; set; }
    public string? CostBasis { get; set; }
}

/// <summary>A deployment's recurring profiling schedule (kept here so it survives restarts; Hangfire's storage is in memory).</summary>
public sealed class ProfileScheduleEntity
{
    public int DeploymentId { get; set; }

    /// <summary>Cron expression (Hangfire's, UTC).</summary>
    public string Cron { get; set; } = "";
    public string Settings { get; set; } = "{}";
    public DateTime UpdatedUtc { get; set; }
}
