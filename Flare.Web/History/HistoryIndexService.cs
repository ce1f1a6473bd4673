using System.Diagnostics;
using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Microsoft.Extensions.Options;

namespace Flare.Web.History;

/// <summary>
/// Keeps the live <see cref="HistoryEstimator"/> (ROUTING.md §4) in step with the routing history in the database,
/// keyed by registry model names: only outcomes whose dataset model is mapped count, under the registry model's name.
/// </summary>
/// <remarks>
/// <para>At start the embedder is loaded (an ONNX model that is missing or broken stops Flare with the reason) and the
/// estimator is rebuilt from the database in the background; <see cref="IsReady"/> says when that is done.</para>
/// <para>After each committed import batch and each feedback row, <see cref="CatchUpAsync"/> adds the outcomes stored
/// since the last one it saw (writers of outcomes take turns, on SQLite by its one write lock, on PostgreSQL by an
/// advisory lock, so outcome ids grow in commit order). A mapping change, a deleted dataset, a renamed or deleted
/// registry model, or an import that at least doubled the history since the built-in embedder's idf was fitted, rebuild
/// the estimator off to the side and swap it in one write: readers keep using the previous one until then.</para>
/// </remarks>
public sealed partial class HistoryIndexService : IHistoryEstimatorSource, IHostedService, IDisposable
{
    /// <summary>An import that leaves at least this many prompts, and twice as many as the idf was fitted on, refits it.</summary>
    internal const int RefitMinimumPrompts = 100;

    private readonly HistoryStore _store;
    private readonly HistoryChangeSignal _history;
    private readonly RegistryChangeSignal _registry;
    private readonly EstimatorSettings _settings;
    private readonly IHostEnvironment _environment;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<HistoryIndexService> _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _rebuildRequested = new(0);
    private readonly Lock _pendingLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource? _pending;
    private Task? _loop;
    private OnnxEmbedder? _onnx;
    private HistoryEstimator _current;
    private IReadOnlyDictionary<int, string> _registryNames = new Dictionary<int, string>();
    private long _lastOutcomeId;
    private volatile bool _startupRebuildDone;
    private volatile bool _ready;
    private int _revision;
    private int _disposed;

    public HistoryIndexService(
        HistoryStore store,
        HistoryChangeSignal history,
        RegistryChangeSignal registry,
        IOptions<EstimatorSettings> settings,
        IHostEnvironment environment,
        ILoggerFactory loggers)
    {
        _store = store;
        _history = history;
        _registry = registry;
        _settings = settings.Value;
        _environment = environment;
        _loggers = loggers;
        _log = loggers.CreateLogger<HistoryIndexService>();
        _current = new HistoryEstimator(new HashedNgramEmbedder(), O200kTokenCounter.Shared);
    }

    /// <inheritdoc />
    public HistoryEstimator Current => Volatile.Read(ref _current);

    /// <inheritdoc />
    public bool IsReady => _ready;

    /// <summary>Incremented each time a rebuilt estimator is swapped in.</summary>
    public int Revision => Volatile.Read(ref _revision);

    /// <summary>The embedder in words, for the UI: <c>hashed-ngram (idf fitted on 5,608 prompts)</c> or <c>onnx (cpu)</c>.</summary>
    public string EmbedderDescription => Current.Embedder switch
    {
        OnnxEmbedder onnx => $"{onnx.Name} ({onnx.ExecutionProvider})",
        HashedNgramEmbedder hashed => $"{hashed.Name} (idf fitted on {hashed.FittedDocuments:N0} prompts)",
        var other => other.Name,
    };

    /// <summary>Loads the embedder (failing start with the reason when an ONNX model cannot be used) and starts the rebuild.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        if (_settings.UsesOnnx)
        {
            _onnx = OnnxEmbedder.Create(new OnnxEmbedderOptions
            {
                ModelPath = Path.GetFullPath(_settings.OnnxModelPath!, _environment.ContentRootPath),
                VocabularyPath = Path.GetFullPath(_settings.OnnxVocabularyPath ?? "", _environment.ContentRootPath),
                MaxTokens = _settings.OnnxMaxTokens,
                UseCuda = _settings.UseCuda,
                CudaDeviceId = _settings.CudaDeviceId,
            }, _loggers.CreateLogger<OnnxEmbedder>());
            Volatile.Write(ref _current, new HistoryEstimator(_onnx, O200kTokenCounter.Shared));
        }

        _history.Changed += OnHistoryChanged;
        _registry.Changed += OnRegistryChanged;
        _loop = Task.Run(() => RebuildLoopAsync(_stopping.Token), CancellationToken.None);
        _ = RequestRebuildAsync();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken ct)
    {
        _history.Changed -= OnHistoryChanged;
        _registry.Changed -= OnRegistryChanged;
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Adds the mapped outcomes stored since the last call to the live estimator; estimates made after this returns see
    /// them. Before the start-up rebuild has run it does nothing: the rebuild includes them.
    /// </summary>
    public async Task CatchUpAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!_startupRebuildDone)
            {
                return;
            }

            var last = await _store.LastOutcomeIdAsync(ct);
            if (last > _lastOutcomeId)
            {
                Current.AddRange(_store.ReadMappedEntries(_lastOutcomeId, last));
                _lastOutcomeId = last;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Asks for a rebuild from the database; the task completes when a rebuild that started after the call has
    /// been swapped in (or failed).</summary>
    public Task RequestRebuildAsync()
    {
        lock (_pendingLock)
        {
            if (_pending is null)
            {
                _pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _rebuildRequested.Release();
            }

            return _pending.Task;
        }
    }

    /// <summary>After an import ended: the built-in embedder's idf is refitted once the history has at least doubled.</summary>
    public void ImportFinished()
    {
        if (_onnx is null && Current is { Embedder: HashedNgramEmbedder hashed } estimator
            && estimator.Count >= RefitMinimumPrompts && estimator.Count >= 2 * hashed.FittedDocuments)
        {
            LogRefit(estimator.Count, hashed.FittedDocuments);
            _ = RequestRebuildAsync();
        }
    }

    private void OnHistoryChanged(HistoryChange change)
    {
        if (change.Kind is HistoryChangeKind.Mapping or HistoryChangeKind.Deleted)
        {
            _ = RequestRebuildAsync();
        }
    }

    private void OnRegistryChanged() => _ = CheckRegistryNamesAsync();

    // The estimator is keyed by registry names: a rename or a deleted model (its mappings become null) means a rebuild.
    private async Task CheckRegistryNamesAsync()
    {
        try
        {
            var names = await _store.MappedRegistryNamesAsync(_stopping.Token);
            var known = Volatile.Read(ref _registryNames);
            if (names.Count != known.Count || names.Any(n => !known.TryGetValue(n.Key, out var name) || name != n.Value))
            {
                await RequestRebuildAsync();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogRebuildFailed(ex);
        }
    }

    private async Task RebuildLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _rebuildRequested.WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            TaskCompletionSource done;
            lock (_pendingLock)
            {
                done = _pending!;
                _pending = null;
            }

            try
            {
                await RebuildAsync(ct);
                done.TrySetResult();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                done.TrySetCanceled(ct);
                break;
            }
            catch (Exception ex)
            {
                LogRebuildFailed(ex);
                done.TrySetException(ex);
            }
            finally
            {
                _startupRebuildDone = true;
            }
        }

        lock (_pendingLock)
        {
            _pending?.TrySetCanceled(ct);
        }
    }

    private async Task RebuildAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var names = await _store.MappedRegistryNamesAsync(ct);
        var upTo = await _store.LastOutcomeIdAsync(ct);

        // Built off to the side: the live estimator keeps answering (and catching up) meanwhile.
        IPromptEmbedder embedder = _onnx is not null ? _onnx : HashedNgramEmbedder.Fit(_store.ReadMappedEntries(0, upTo).Select(e => e.Prompt));
        var next = new HistoryEstimator(embedder, O200kTokenCounter.Shared);
        next.AddRange(_store.ReadMappedEntries(0, upTo));
        ct.ThrowIfCancellationRequested();

        await _gate.WaitAsync(ct);
        try
        {
            var last = await _store.LastOutcomeIdAsync(ct);
            if (last > upTo)
            {
                next.AddRange(_store.ReadMappedEntries(upTo, last));
            }

            Volatile.Write(ref _current, next);
            Volatile.Write(ref _registryNames, names);
            _lastOutcomeId = last;
            _startupRebuildDone = true;
            _ready = true;
            Interlocked.Increment(ref _revision);
        }
        finally
        {
            _gate.Release();
        }

        LogRebuilt(next.Count, next.Models.Count, EmbedderDescription, watch.Elapsed.TotalSeconds);
    }

    // Called once per registration that resolves this instance (the service, the source, the hosted service).
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        _onnx?.Dispose();
        _gate.Dispose();
        _rebuildRequested.Dispose();
    }

    [LoggerMessage(EventId = 6201, Level = LogLevel.Information, Message = "Built the quality/length estimator from the routing history: {Prompts} prompts, {Models} models, {Embedder}, in {Seconds:0.00} s")]
    private partial void LogRebuilt(int prompts, int models, string embedder, double seconds);

    [LoggerMessage(EventId = 6202, Level = LogLevel.Error, Message = "Could not rebuild the quality/length estimator from the routing history; the previous one stays in use")]
    private partial void LogRebuildFailed(Exception ex);

    [LoggerMessage(EventId = 6203, Level = LogLevel.Information, Message = "The history has {Prompts} prompts, the embedder's idf was fitted on {Fitted}: rebuilding to refit it")]
    private partial void LogRefit(int prompts, int fitted);
}
