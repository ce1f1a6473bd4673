using System.Threading.Channels;
using Flare.Data;
using Flare.Data.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace Flare.Web.Gateway;

/// <summary>
/// The per-request log, off the request path: requests drop an entry into a bounded channel (never
/// waiting; when the writer cannot keep up, entries are counted as dropped), and one background loop
/// writes them in batches and trims the table to its retention limit. It also keeps the most recent
/// entries in memory for the live traffic page.
/// </summary>
public sealed partial class RequestLogWriter(
    IDbContextFactory<FlareDbContext> dbFactory,
    IOptions<GatewayOptions> options,
    ILogger<RequestLogWriter> log) : BackgroundService
{
    private const int BatchSize = 500;
    private const int RecentCapacity = 200;

    private readonly Channel<RequestLogEntity> _channel = Channel.CreateBounded<RequestLogEntity>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly RequestLogEntity[] _recent = new RequestLogEntity[RecentCapacity];
    private readonly Lock _recentLock = new();
    private long _recentCount;
    private long _dropped;
    private long _written;

    // Feedback for requests whose rows were still queued when it came; applied as they are written.
    private const int MaxPendingFeedback = 10_000;
    private readonly Dictionary<string, double> _pendingFeedback = new(StringComparer.Ordinal);

    /// <summary>Entries lost because the writer could not keep up (the channel was full).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Entries written to the database since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Raised (off the request path) after each batch is written.</summary>
    public event Action? BatchWritten;

    /// <summary>Queues an entry; never blocks.</summary>
    public void Enqueue(RequestLogEntity entry)
    {
        if (!options.Value.RequestLogEnabled)
        {
            return;
        }

        if (!_channel.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>
    /// Records an application's score of a served answer on its log row (what the explorer's observed quality is the mean
    /// of). A row still queued gets the score when it is written.
    /// </summary>
    public async Task RecordFeedbackAsync(string requestId, double score, CancellationToken ct)
    {
        bool queued;
        lock (_recentLock)
        {
            var recent = Array.Find(_recent, r => r?.RequestId == requestId);
            if (recent is not null)
            {
                recent.FeedbackScore = score;
            }

            // Not yet handed to the writer: it picks the score up when it writes the row.
            queued = recent is null;
            _pendingFeedback[requestId] = score;
            if (_pendingFeedback.Count > MaxPendingFeedback)
            {
                _pendingFeedback.Remove(_pendingFeedback.Keys.First());
            }
        }

        // A row being inserted right now may have been read before the score was set: update until it is there.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var updated = await db.RequestLog.Where(r => r.RequestId == requestId)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.FeedbackScore, score), ct);
            if (updated > 0 || queued)
            {
                lock (_recentLock)
                {
                    if (updated > 0)
                    {
                        _pendingFeedback.Remove(requestId);
                    }
                }

                return;
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>The most recent entries, newest first.</summary>
    public IReadOnlyList<RequestLogEntity> Recent()
    {
        lock (_recentLock)
        {
            var n = (int)Math.Min(_recentCount, RecentCapacity);
            var result = new RequestLogEntity[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = _recent[(int)((_recentCount - 1 - i) % RecentCapacity)];
            }

            return result;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var batch = new List<RequestLogEntity>(BatchSize);
        var lastTrim = DateTime.UtcNow;
        var reader = _channel.Reader;
        try
        {
            var full = false;
            while (await reader.WaitToReadAsync(ct))
            {
                // Let a batch gather for a moment; one insert per batch instead of per request. After a full
                // batch more are waiting, so write on without pausing: a pause per batch would cap the writer
                // at BatchSize per 100 ms, and above that rate the queue (and Flare's memory) would grow.
                if (!full)
                {
                    await Task.Delay(100, ct);
                }

                while (batch.Count < BatchSize && reader.TryRead(out var entry))
                {
                    batch.Add(entry);
                }

                full = batch.Count == BatchSize;
                await WriteAsync(batch, ct);
                batch.Clear();
                if (DateTime.UtcNow - lastTrim > TimeSpan.FromMinutes(1))
                {
                    await TrimAsync(ct);
                    lastTrim = DateTime.UtcNow;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down: write what is already queued.
            while (reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }

            await WriteAsync(batch, CancellationToken.None);
        }
    }

    private async Task WriteAsync(List<RequestLogEntity> batch, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }

        foreach (var entry in batch)
        {
            Explain(entry);
        }

        lock (_recentLock)
        {
            foreach (var entry in batch)
            {
                _recent[(int)(_recentCount++ % RecentCapacity)] = entry;
                if (_pendingFeedback.Count > 0 && _pendingFeedback.Remove(entry.RequestId, out var score))
                {
                    entry.FeedbackScore = score;
                }
            }
        }

        try
        {
            await InsertAsync(batch, ct);
            Interlocked.Add(ref _written, batch.Count);
            BatchWritten?.Invoke();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Interlocked.Add(ref _dropped, batch.Count);
            LogWriteFailed(ex, batch.Count);
        }
    }

    /// <summary>Turns the request path's decision into its stored explanation; a failure costs the explanation, not the row.</summary>
    private void Explain(RequestLogEntity entry)
    {
        if (entry.Decision is not { } decision)
        {
            return;
        }

        try
        {
            entry.Explanation = decision.Explain().ToJson();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogExplainFailed(ex, entry.RequestId);
        }

        entry.Decision = null;
    }

    /// <summary>
    /// One transaction and one prepared INSERT per batch, bypassing change tracking: on a small machine the log's
    /// background CPU competes with requests, and EF's per-entity bookkeeping was most of it.
    /// </summary>
    private async Task InsertAsync(List<RequestLogEntity> batch, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await PreparedInsert<RequestLogEntity>.For(db).ExecuteAsync(tx, batch, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Deletes the oldest rows beyond the retention limit.</summary>
    public async Task TrimAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var keep = options.Value.RequestLogRetentionRows;
        var cutoff = await db.RequestLog.OrderByDescending(r => r.Id).Skip(keep).Select(r => (long?)r.Id).FirstOrDefaultAsync(ct);
        if (cutoff is { } id)
        {
            await db.RequestLog.Where(r => r.Id <= id).ExecuteDeleteAsync(ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not explain the routing decision of request {RequestId}")]
    private partial void LogExplainFailed(Exception ex, string requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write {Count} request log entries")]
    private partial void LogWriteFailed(Exception ex, int count);
}
