using System.Collections.Concurrent;
using Flare.Data.Profiling;
using Flare.Data.Registry;
using Microsoft.Extensions.Options;

namespace Flare.Web.Profiling;

/// <summary>In-process handles of live runs, so a cancel stops the load at once rather than at the next database check.</summary>
public sealed class LiveRuns
{
    private readonly ConcurrentDictionary<int, CancellationTokenSource> _runs = new();

    internal void Add(int runId, CancellationTokenSource cts) => _runs[runId] = cts;

    internal void Remove(int runId) => _runs.TryRemove(runId, out _);

    /// <summary>Cancels the run's requests if it runs in this process; false when it does not.</summary>
    public bool Cancel(int runId)
    {
        if (!_runs.TryGetValue(runId, out var cts))
        {
            return false;
        }

        try
        {
            cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        return true;
    }
}

/// <summary>
/// Measures a profiling run: walks the grid (skipping cells a resumed run already completed), keeps each cell's
/// load (a closed loop of <i>c</i> workers, or Poisson arrivals), streams every request through
/// <see cref="RequestMeter"/>, and writes samples in batches as it goes, each cell's last batch together with the
/// mark that the cell is complete. Ends the run as completed, cancelled, timed out, interrupted or failed, and fits
/// a completed run.
/// </summary>
public sealed partial class ProfileRunner(
    ProfilingStore store,
    ProfileFitting fitting,
    LiveRuns live,
    IHttpClientFactory httpFactory,
    IOptions<ProfilingOptions> options,
    TimeProvider time,
    ILogger<ProfileRunner> log)
{
    /// <summary>Name of the HTTP client the runner sends with (no overall timeout: each request has its own).</summary>
    public const string HttpClientName = "flare-profiling";

    /// <summary>Runs (or resumes) <paramref name="runId"/>. <paramref name="hostStopping"/> is the job's token:
    /// it fires when Flare shuts down, and the run then ends as interrupted.</summary>
    public async Task RunAsync(int runId, CancellationToken hostStopping)
    {
        var begun = await store.BeginRunAsync(runId, hostStopping);
        if (!begun.IsOk)
        {
            LogNotStarted(runId, begun.Message);
            return;
        }

        var work = begun.Value!;
        var settings = work.Run.Settings;
        using var cancel = new CancellationTokenSource();
        using var timeLimit = new CancellationTokenSource(TimeSpan.FromMinutes(settings.TimeLimitMinutes), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token, timeLimit.Token, hostStopping);
        live.Add(runId, cancel);
        LogStarted(runId, work.Target.Name, work.Run.CellsTotal - work.CompletedCells.Count, work.Run.CellsTotal);
        var status = ProfileRunStatus.Completed;
        string? message = null;
        var writer = new SampleWriter(store, runId, options.Value, cancel, time);
        try
        {
            var meter = new RequestMeter(httpFactory.CreateClient(HttpClientName), work.Target, settings, time);
            foreach (var cell in settings.Cells().Where(c => !work.CompletedCells.Contains(c.Index)))
            {
                linked.Token.ThrowIfCancellationRequested();
                var flusher = writer.StartFlushing(linked.Token);
                try
                {
                    if (cell.Concurrency is { } c)
                    {
                        await RunClosedLoopAsync(meter, cell, c, settings, writer, linked.Token);
                    }
                    else
                    {
                        await RunPoissonAsync(meter, cell, cell.RequestRate!.Value, settings, writer, linked.Token);
                    }
                }
                finally
                {
                    await writer.StopFlushingAsync(flusher);
                }

                // The cell's remaining samples and its completion, in one transaction.
                await writer.FlushAsync(completedCell: cell.Index, CancellationToken.None);
            }

            message = $"Measured {work.Run.CellsTotal} cells.";
        }
        catch (OperationCanceledException)
        {
            (status, message) = cancel.IsCancellationRequested ? (ProfileRunStatus.Cancelled, "Cancelled by an operator; resume to measure the cells still missing.")
                : timeLimit.IsCancellationRequested ? (ProfileRunStatus.TimedOut, $"Stopped at the {settings.TimeLimitMinutes:0.##}-minute time limit; resume to measure the cells still missing.")
                : (ProfileRunStatus.Interrupted, "Interrupted: Flare was stopped during the run; resume it to measure the rest.");
        }
        catch (Exception ex)
        {
            LogFailed(ex, runId);
            (status, message) = (ProfileRunStatus.Failed, $"Failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            live.Remove(runId);
        }

        // Whatever was measured before the run stopped is kept (its cell stays incomplete, so a resume measures it again).
        await writer.FlushAsync(null, CancellationToken.None);

        // A complete grid is fitted before the run is marked completed, so whoever sees it completed sees its fit too.
        if (status == ProfileRunStatus.Completed)
        {
            var fit = await fitting.FitRunAsync(runId, CancellationToken.None);
            if (fit.IsOk)
            {
                message += $" Fitted as version {fit.Value!.Version}{(fit.Value.IsFlagged ? " (a curve is flagged: see the verdicts)" : "")}.";
            }
            else
            {
                LogNoFit(runId, fit.Message);
                message += $" Not fitted: {fit.Errors}";
            }
        }

        var ended = await store.FinishRunAsync(runId, status, message, CancellationToken.None);
        LogEnded(runId, ended?.Status ?? status, ended?.SamplesRecorded ?? 0);
    }

    /// <summary>
    /// Keeps <paramref name="c"/> requests in flight, staggered. Claims are numbered: the first warm-up rounds are not recorded,
    /// the next ones are, and once every measured claim is out, workers keep sending unrecorded filler so the last
    /// measured requests still meet <paramref name="c"/> in flight; the filler is cancelled when they are done.
    /// </summary>
    private static async Task RunClosedLoopAsync(RequestMeter meter, ProfileCell cell, int c, ProfileSweepSettings settings, SampleWriter writer, CancellationToken ct)
    {
        var warmup = settings.WarmupRequests * c;
        var measured = Math.Max(settings.RequestsPerCell, c);
        var claims = 0;
        var measuredLeft = measured;
        using var filler = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var random = new Random(HashCode.Combine(settings.Seed, cell.Index));
        var prompts = new ConcurrentQueue<string>(Enumerable.Range(0, warmup + measured + c).Select(_ => PromptBuilder.UserContent(cell.InputTokens, random)));

        // Identical requests started together finish together and arrive again together, so an unstaggered closed
        // loop measures c-request bursts, not a steady load. One request alone gives the cycle time; worker i starts
        // i/c of a cycle late, spreading arrivals across it.
        var cycleMs = 0.0;
        if (c > 1)
        {
            var probe = await meter.MeasureAsync(cell, PromptBuilder.UserContent(cell.InputTokens, random), 1, ct);
            cycleMs = probe.Sample.E2eMs ?? 0;
        }

        async Task WorkerAsync(int worker)
        {
            if (worker > 0 && cycleMs > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(cycleMs * worker / c), ct);
            }

            while (true)
            {
                var n = Interlocked.Increment(ref claims);
                var content = prompts.TryDequeue(out var p) ? p : PromptBuilder.UserContent(cell.InputTokens, new Random(HashCode.Combine(settings.Seed, cell.Index, n)));
                if (n <= warmup)
                {
                    await meter.MeasureAsync(cell, content, c, ct);
                }
                else if (n <= warmup + measured)
                {
                    writer.Add(await meter.MeasureAsync(cell, content, c, ct));
                    if (Interlocked.Decrement(ref measuredLeft) == 0)
                    {
                        await filler.CancelAsync();
                    }
                }
                else if (Volatile.Read(ref measuredLeft) > 0)
                {
                    try
                    {
                        await meter.MeasureAsync(cell, content, c, filler.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        return;
                    }
                }
                else
                {
                    return;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, c).Select(i => Task.Run(() => WorkerAsync(i), ct)));
    }

    /// <summary>
    /// Poisson arrivals at <paramref name="rate"/> per second (exponential gaps, seeded). Each request records the
    /// requests in flight when it was sent; arrivals go on, unrecorded, until the measured ones are done.
    /// </summary>
    private async Task RunPoissonAsync(RequestMeter meter, ProfileCell cell, double rate, ProfileSweepSettings settings, SampleWriter writer, CancellationToken ct)
    {
        var warmup = settings.WarmupRequests;
        var measured = settings.RequestsPerCell;
        var inFlight = 0;
        var measuredLeft = measured;
        using var filler = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var random = new Random(HashCode.Combine(settings.Seed, cell.Index));
        var tasks = new List<Task>();
        var allMeasured = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task SendAsync(int n, string content)
        {
            var load = Interlocked.Increment(ref inFlight);
            try
            {
                if (n < warmup)
                {
                    await meter.MeasureAsync(cell, content, load, ct);
                }
                else if (n < warmup + measured)
                {
                    writer.Add(await meter.MeasureAsync(cell, content, load, ct));
                    if (Interlocked.Decrement(ref measuredLeft) == 0)
                    {
                        allMeasured.TrySetResult();
                        await filler.CancelAsync();
                    }
                }
                else
                {
                    await meter.MeasureAsync(cell, content, load, filler.Token);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // filler cut short once the measured requests are done
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }

        for (var n = 0; Volatile.Read(ref measuredLeft) > 0; n++)
        {
            var content = PromptBuilder.UserContent(cell.InputTokens, random);
            var ordinal = n;
            tasks.Add(Task.Run(() => SendAsync(ordinal, content), ct));
            var gap = TimeSpan.FromSeconds(-Math.Log(1 - random.NextDouble()) / rate);
            if (await Task.WhenAny(allMeasured.Task, Task.Delay(gap, time, ct)) == allMeasured.Task)
            {
                break;
            }

            ct.ThrowIfCancellationRequested();
        }

        await Task.WhenAll(tasks);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Profiling run {RunId} of {Deployment}: {Cells} of {Total} cells to measure")]
    private partial void LogStarted(int runId, string deployment, int cells, int total);

    [LoggerMessage(Level = LogLevel.Information, Message = "Profiling run {RunId} ended {Status} with {Samples} samples")]
    private partial void LogEnded(int runId, ProfileRunStatus status, int samples);

    [LoggerMessage(Level = LogLevel.Information, Message = "Profiling run {RunId} not started: {Reason}")]
    private partial void LogNotStarted(int runId, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profiling run {RunId} completed but could not be fitted: {Reason}")]
    private partial void LogNoFit(int runId, string? reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Profiling run {RunId} failed")]
    private partial void LogFailed(Exception ex, int runId);
}

/// <summary>
/// Buffers a run's samples and writes them in batches: every <see cref="ProfilingOptions.FlushIntervalSeconds"/>,
/// as soon as <see cref="ProfilingOptions.FlushBatchSize"/> wait, and at the end of each cell. A write that finds a
/// cancel request (made from another process, say) cancels the run.
/// </summary>
internal sealed class SampleWriter(ProfilingStore store, int runId, ProfilingOptions options, CancellationTokenSource cancel, TimeProvider time)
{
    private readonly ConcurrentQueue<ProfileSampleRecord> _pending = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private CancellationTokenSource? _stop;

    public void Add(ProfileSampleRecord record) => _pending.Enqueue(record);

    public Task StartFlushing(CancellationToken ct)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = _stop.Token;
        return Task.Run(async () =>
        {
            var interval = TimeSpan.FromSeconds(options.FlushIntervalSeconds);
            var poll = TimeSpan.FromMilliseconds(Math.Min(50, interval.TotalMilliseconds));
            var last = time.GetTimestamp();
            while (!token.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(poll, time, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                if (_pending.Count >= options.FlushBatchSize || (time.GetElapsedTime(last) >= interval && !_pending.IsEmpty))
                {
                    await FlushAsync(null, CancellationToken.None);
                    last = time.GetTimestamp();
                }
            }
        }, CancellationToken.None);
    }

    public async Task StopFlushingAsync(Task flusher)
    {
        if (_stop is not null)
        {
            await _stop.CancelAsync();
        }

        await flusher;
        _stop?.Dispose();
        _stop = null;
    }

    public async Task FlushAsync(int? completedCell, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var batch = new List<ProfileSampleRecord>();
            while (_pending.TryDequeue(out var r))
            {
                batch.Add(r);
            }

            if (batch.Count == 0 && completedCell is null)
            {
                return;
            }

            if (await store.RecordAsync(runId, batch, completedCell, ct))
            {
                await cancel.CancelAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
