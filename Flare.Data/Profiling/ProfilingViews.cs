using Flare.Routing.Profiles;
using Flare.Routing.Registry;

namespace Flare.Data.Profiling;

/// <summary>A profiling run as the UI and <c>/api</c> show it.</summary>
public sealed record ProfileRunView(
    int Id,
    int DeploymentId,
    string DeploymentName,
    ProfileRunSource Source,
    ProfileRunStatus Status,
    ProfileSweepSettings Settings,
    int CellsTotal,
    int CellsDone,
    int SamplesRecorded,
    int ErrorCount,
    bool CancelRequested,
    string? Message,
    DateTime CreatedUtc,
    DateTime? StartedUtc,
    DateTime? FinishedUtc)
{
    /// <summary>Share of the grid's cells done, 0 to 1.</summary>
    public double Progress => CellsTotal == 0 ? 0 : (double)CellsDone / CellsTotal;

    /// <summary>Queued or running.</summary>
    public bool IsLive => Status is ProfileRunStatus.Queued or ProfileRunStatus.Running;

    /// <summary>A sweep that stopped before its grid was done: resuming measures the cells still missing.</summary>
    public bool CanResume => Source == ProfileRunSource.Sweep
        && Status is ProfileRunStatus.Cancelled or ProfileRunStatus.Interrupted or ProfileRunStatus.Failed or ProfileRunStatus.TimedOut;
}

/// <summary>One fitted version of a deployment's curves.</summary>
public sealed record ProfileFitView(
    int Id,
    int DeploymentId,
    int Version,
    int? RunId,
    bool IsActive,
    DateTime CreatedUtc,
    ProfileFit Fit,
    int ReferenceInputTokens,
    int ReferenceOutputTokens,
    double? SaturationRequestsPerSecond,
    double? SaturationOutputTokensPerSecond,
    double? CostPerRequestUsd,
    string? CostBasis)
{
    public bool IsFlagged => Fit.Ttft.IsFlagged || Fit.Tpot.IsFlagged || Fit.E2e.IsFlagged;
}

/// <summary>A stored sample with the ITL statistics the fitter does not use.</summary>
public sealed record ProfileSampleView(
    int CellIndex, ProfileSample Sample, double? ItlP50Ms, double? ItlP95Ms, double? ItlMaxMs, string? Error, DateTime StartedUtc);

/// <summary>What a profiling run sends requests to: the deployment's endpoint and what its cost is made of.</summary>
public sealed record ProfileTarget(
    int DeploymentId,
    string Name,
    DeploymentKind Kind,
    string BaseUrl,
    string ServedModelName,
    string? ApiKey,
    double? InputPricePerMTokUsd,
    double? OutputPricePerMTokUsd,
    double GpuPricePerHourUsd,
    int GpuCount);

/// <summary>A measured sample about to be written, with the cell it belongs to.</summary>
public sealed record ProfileSampleRecord(
    int CellIndex, ProfileSample Sample, double? ItlP50Ms, double? ItlP95Ms, double? ItlMaxMs, string? Error, DateTime StartedUtc);

/// <summary>A run about to be measured: its settings and the cells already complete.</summary>
public sealed record ProfileRunWork(ProfileRunView Run, ProfileTarget Target, IReadOnlySet<int> CompletedCells);

/// <summary>A deployment's recurring profiling schedule.</summary>
public sealed record ProfileScheduleView(int DeploymentId, string Cron, ProfileSweepSettings Settings, DateTime UpdatedUtc);
