using System.Security.Cryptography;
using System.Text;
using Flare.Data.Registry;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Flare.Data.History;

/// <summary>What changed in the routing history.</summary>
public enum HistoryChangeKind
{
    /// <summary>An import started, resumed or committed a batch.</summary>
    Progress,

    /// <summary>An import ended (completed, failed or interrupted).</summary>
    Finished,

    /// <summary>A dataset's model mapping changed.</summary>
    Mapping,

    /// <summary>A dataset was deleted.</summary>
    Deleted,

    /// <summary>A feedback row was stored.</summary>
    Feedback,
}

/// <summary>A change to one dataset of the routing history.</summary>
public sealed record HistoryChange(int DatasetId, HistoryChangeKind Kind);

/// <summary>Raised after every history write, so pages show progress without a reload and the estimator follows mappings.</summary>
public sealed class HistoryChangeSignal
{
    public event Action<HistoryChange>? Changed;

    public void Raise(HistoryChange change) => Changed?.Invoke(change);
}

/// <summary>
/// The routing history in the database (ROUTING.md §4): imports of evaluation sets, read as a stream and committed in
/// batches; each dataset's mapping of model names to registry models; feedback rows; and the mapped rows the live
/// estimator is built from. Expected failures are <see cref="Outcome{T}"/> values.
/// </summary>
/// <remarks>
/// An import commits each batch of records in one transaction together with the dataset's counters and issues, so
/// the counters always describe exactly what is stored: <see cref="HistoryDatasetEntity.RowsRead"/> records of the
/// file. A resumed import skips that many records and goes on. Prompts are unique per dataset by the SHA-256 of
/// their text; a prompt seen again adds its outcomes to the stored prompt.
/// </remarks>
public sealed class HistoryStore(IDbContextFactory<FlareDbContext> dbFactory, HistoryChangeSignal changes, TimeProvider time)
{
    /// <summary>Row issues kept per dataset; past this they are only counted.</summary>
    public const int MaxStoredIssues = 1000;

    private const int NameMaxLength = 200;
    private const int ExternalIdMaxLength = 200;

    /// <summary>
    /// What writers of outcomes (import batches, feedback) serialize on, so outcome ids grow in commit order: the live
    /// estimator catches up by reading the ids above the last one it saw, and would skip a batch whose ids were taken
    /// before another writer's higher ones but committed after them.
    /// </summary>
    private const string OutcomeWriters = "history-outcomes";

    private readonly SemaphoreSlim _feedbackGate = new(1, 1);

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private static ITokenCounter Tokens => O200kTokenCounter.Shared;

    /// <summary>Lower-case hex SHA-256 of a prompt's UTF-8 text.</summary>
    public static string PromptHash(string prompt) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)));

    // ---------------------------------------------------------------- imports

    /// <summary>
    /// The dataset an upload with this content goes to: a new one; the same file's earlier dataset when that import
    /// was interrupted or failed (it runs again, skipping the rows stored); or, when the same file is already imported
    /// or being imported, that dataset with nothing to do.
    /// </summary>
    /// <param name="contentSha256">Lower-case hex SHA-256 of the file's bytes.</param>
    /// <param name="bytesTotal">The file's size, for the progress bar.</param>
    public async Task<Outcome<HistoryImportTicket>> BeginImportAsync(
        string name, HistoryFormat format, string contentSha256, long bytesTotal, CancellationToken ct = default)
    {
        name = (name ?? "").Trim();
        if (name.Length is 0 or > NameMaxLength)
        {
            return Outcome<HistoryImportTicket>.Invalid("name", $"The dataset's name must have 1 to {NameMaxLength} characters.");
        }

        if (contentSha256 is not { Length: 64 } || !contentSha256.All(char.IsAsciiHexDigitLower))
        {
            return Outcome<HistoryImportTicket>.Invalid("contentSha256", "The content hash must be 64 lower-case hex digits (SHA-256).");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var formatName = HistoryDatasets.Name(format);
        var existing = await db.HistoryDatasets.SingleOrDefaultAsync(d => d.ContentSha256 == contentSha256, ct);
        if (existing is null)
        {
            var row = new HistoryDatasetEntity
            {
                Name = name,
                Format = formatName,
                ContentSha256 = contentSha256,
                Status = HistoryImportStatus.Running,
                StartedUtc = Now,
                BytesTotal = bytesTotal,
            };
            db.HistoryDatasets.Add(row);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                if (!await AnyWithHashAsync(contentSha256, ct))
                {
                    throw;
                }

                // The same file was uploaded twice at once and the other upload created the dataset first.
                return await BeginImportAsync(name, format, contentSha256, bytesTotal, ct);
            }

            Raise(row.Id, HistoryChangeKind.Progress);
            return Outcome<HistoryImportTicket>.Ok(new HistoryImportTicket(await ViewAsync(db, row.Id, ct), HistoryImportStart.New));
        }

        if (existing.Status is HistoryImportStatus.Completed or HistoryImportStatus.Running)
        {
            return Outcome<HistoryImportTicket>.Ok(new HistoryImportTicket(await ViewAsync(db, existing.Id, ct), HistoryImportStart.Existing));
        }

        if (existing.Format != formatName)
        {
            if (existing.RowsRead > 0)
            {
                return Outcome<HistoryImportTicket>.Conflict(
                    $"This file is dataset {existing.Id} ('{existing.Name}'), imported as {existing.Format} with {existing.RowsRead:N0} rows stored; delete it to import the file as {formatName}.", "format");
            }

            existing.Format = formatName;
            existing.IssuesJson = "[]";
        }

        existing.Status = HistoryImportStatus.Running;
        existing.Failure = null;
        existing.FinishedUtc = null;
        existing.BytesRead = 0;
        existing.BytesTotal = bytesTotal;
        await db.SaveChangesAsync(ct);
        Raise(existing.Id, HistoryChangeKind.Progress);
        return Outcome<HistoryImportTicket>.Ok(new HistoryImportTicket(await ViewAsync(db, existing.Id, ct), HistoryImportStart.Resumed));
    }

    /// <summary>
    /// Reads <paramref name="content"/> (the file a ticket was issued for) and stores its rows in batches of
    /// <see cref="HistoryImportOptions.BatchSize"/> records, each batch with the dataset's counters and issues in one
    /// transaction. <paramref name="afterBatch"/> runs after each commit (the live estimator adds the rows). Malformed
    /// records are reported with their line and skipped; a file that cannot be read on (broken JSON) ends the import as
    /// failed with the rows before kept.
    /// </summary>
    /// <returns>The dataset as the import left it.</returns>
    /// <exception cref="InvalidOperationException">The dataset does not exist or is not running.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (Flare is stopping): the dataset is marked interrupted.</exception>
    public async Task<HistoryDatasetView> ImportAsync(
        int datasetId, Stream content, HistoryImportOptions options, Func<CancellationToken, Task>? afterBatch = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.AssumedOutputTokens);
        var run = await LoadRunAsync(datasetId, ct);
        var counting = new CountingStream(content);
        var skip = run.RowsRead;
        string? failure = null;
        var failureLine = 0;
        var batch = new List<HistoryRecord>(options.BatchSize);
        try
        {
            foreach (var record in HistoryDatasets.ReadRecords(counting, options.Format, Tokens))
            {
                ct.ThrowIfCancellationRequested();
                if (record.Failure is not null)
                {
                    (failure, failureLine) = (record.Failure, record.Line);
                    break;
                }

                if (skip > 0)
                {
                    skip--; // stored by an earlier, interrupted run of this import
                    continue;
                }

                batch.Add(record);
                if (batch.Count >= options.BatchSize)
                {
                    await CommitAsync(run, batch, counting.BytesRead, options, ct);
                    batch.Clear();
                    if (afterBatch is not null)
                    {
                        await afterBatch(ct);
                    }
                }
            }

            if (batch.Count > 0)
            {
                await CommitAsync(run, batch, counting.BytesRead, options, ct);
                if (afterBatch is not null)
                {
                    await afterBatch(ct);
                }
            }

            return await FinishAsync(run, failure, failureLine, counting.BytesRead, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await EndAsync(datasetId, HistoryImportStatus.Interrupted,
                $"Interrupted after {run.RowsRead:N0} rows: Flare stopped. Upload the same file again to import the rest.");
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            await EndAsync(datasetId, HistoryImportStatus.Failed, $"The import stopped after {run.RowsRead:N0} rows: {e.Message}");
            throw;
        }
    }

    /// <summary>Marks imports left running by a previous process as interrupted (their committed rows stay).</summary>
    public async Task<int> InterruptAbandonedImportsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.HistoryDatasets.Where(d => d.Status == HistoryImportStatus.Running).ToListAsync(ct);
        foreach (var row in rows)
        {
            row.Status = HistoryImportStatus.Interrupted;
            row.FinishedUtc = Now;
            row.Failure = $"Interrupted: Flare stopped during the import ({row.RowsRead:N0} rows read, {row.RowsImported:N0} kept). Upload the same file again to import the rest.";
        }

        await db.SaveChangesAsync(ct);
        foreach (var row in rows)
        {
            Raise(row.Id, HistoryChangeKind.Finished);
        }

        return rows.Count;
    }

    // ---------------------------------------------------------------- datasets

    /// <summary>Every dataset, newest first.</summary>
    public async Task<IReadOnlyList<HistoryDatasetView>> ListDatasetsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Views(db, db.HistoryDatasets.OrderByDescending(d => d.Id)).ToListAsync(ct);
    }

    /// <summary>One dataset with its issues and model mapping, or null.</summary>
    public async Task<HistoryDatasetDetail?> GetDatasetAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var view = await Views(db, db.HistoryDatasets.Where(d => d.Id == id)).SingleOrDefaultAsync(ct);
        if (view is null)
        {
            return null;
        }

        var issues = HistoryIssueLog.Parse(await db.HistoryDatasets.Where(d => d.Id == id).Select(d => d.IssuesJson).SingleAsync(ct));
        return new HistoryDatasetDetail(view, issues.Issues, issues.Omitted, await MapViewsAsync(db, id, ct));
    }

    /// <summary>A dataset's model mapping, or NotFound.</summary>
    public async Task<Outcome<IReadOnlyList<HistoryModelMapView>>> GetModelMapAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.HistoryDatasets.AnyAsync(d => d.Id == id, ct)
            ? Outcome<IReadOnlyList<HistoryModelMapView>>.Ok(await MapViewsAsync(db, id, ct))
            : Outcome<IReadOnlyList<HistoryModelMapView>>.NotFound($"History dataset {id} does not exist.");
    }

    /// <summary>Maps (or unmaps, with a null id) the listed dataset models; models not listed keep their mapping.</summary>
    public async Task<Outcome<IReadOnlyList<HistoryModelMapView>>> SetModelMapAsync(int id, IReadOnlyList<HistoryModelMapInput> changes, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.HistoryDatasets.AnyAsync(d => d.Id == id, ct))
        {
            return Outcome<IReadOnlyList<HistoryModelMapView>>.NotFound($"History dataset {id} does not exist.");
        }

        var rows = await db.HistoryModelMap.Where(m => m.DatasetId == id).ToDictionaryAsync(m => m.DatasetModel, StringComparer.Ordinal, ct);
        var registry = await db.Models.Select(m => m.Id).ToListAsync(ct);
        var errors = new Flare.Routing.Registry.FieldErrors();
        foreach (var change in changes)
        {
            if (change?.DatasetModel is null || !rows.ContainsKey(change.DatasetModel))
            {
                errors.Add("datasetModel", $"Dataset {id} has no model '{change?.DatasetModel}'.");
            }
            else if (change.RegistryModelId is { } modelId && !registry.Contains(modelId))
            {
                errors.Add("registryModelId", $"Registry model {modelId} does not exist.");
            }
        }

        if (!errors.IsEmpty)
        {
            return Outcome<IReadOnlyList<HistoryModelMapView>>.Invalid(errors);
        }

        var changed = false;
        foreach (var change in changes)
        {
            var row = rows[change.DatasetModel];
            changed |= row.RegistryModelId != change.RegistryModelId;
            row.RegistryModelId = change.RegistryModelId;
        }

        if (changed)
        {
            await db.SaveChangesAsync(ct);
            Raise(id, HistoryChangeKind.Mapping);
        }

        return Outcome<IReadOnlyList<HistoryModelMapView>>.Ok(await MapViewsAsync(db, id, ct));
    }

    /// <summary>Deletes a dataset with its prompts and outcomes; refused while its import runs.</summary>
    public async Task<Outcome<bool>> DeleteDatasetAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.HistoryDatasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, ct);
        if (row is null)
        {
            return Outcome<bool>.NotFound($"History dataset {id} does not exist.");
        }

        if (row.Status == HistoryImportStatus.Running)
        {
            return Outcome<bool>.Conflict($"Dataset {id} ('{row.Name}') is being imported; wait for the import to end.");
        }

        // The database cascades to the prompts, their outcomes and the model mapping.
        await db.HistoryDatasets.Where(d => d.Id == id).ExecuteDeleteAsync(ct);
        Raise(id, HistoryChangeKind.Deleted);
        return Outcome<bool>.Ok(true);
    }

    // ---------------------------------------------------------------- feedback

    /// <summary>
    /// Stores one labelled outcome of a served request in the feedback dataset (created on first use): the prompt is
    /// found by its hash or added, the outcome added, and the model mapped to the registry model of the same name, all
    /// in one transaction.
    /// </summary>
    public async Task<HistoryFeedbackResult> AddFeedbackAsync(
        string requestId, string prompt, string model, double score, int? outputTokens, double? costUsd, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (!(score is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(score), score, "A score is in [0, 1].");
        }

        await _feedbackGate.WaitAsync(ct);
        try
        {
            var datasetId = await EnsureFeedbackDatasetAsync(ct);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await using var tx = await db.Database.BeginSerializedTransactionAsync(OutcomeWriters, ct);
            var dataset = await db.HistoryDatasets.SingleAsync(d => d.Id == datasetId, ct);
            var map = await db.HistoryModelMap.SingleOrDefaultAsync(m => m.DatasetId == datasetId && m.DatasetModel == model, ct);
            if (map is null)
            {
                map = new HistoryModelMapEntity { DatasetId = datasetId, DatasetModel = model, RegistryModelId = (await RegistryModelsAsync(db, ct)).Find(model) };
                db.HistoryModelMap.Add(map);
            }

            var hash = PromptHash(prompt);
            var outcome = new HistoryOutcomeEntity { DatasetModel = model, Score = score, OutputTokens = outputTokens, CostUsd = costUsd };
            var existing = await db.HistoryPrompts.SingleOrDefaultAsync(p => p.DatasetId == datasetId && p.PromptSha256 == hash, ct);
            if (existing is null)
            {
                existing = new HistoryPromptEntity
                {
                    DatasetId = datasetId,
                    Source = HistorySource.Feedback,
                    ExternalId = requestId.Length > ExternalIdMaxLength ? requestId[..ExternalIdMaxLength] : requestId,
                    PromptSha256 = hash,
                    Prompt = prompt,
                    InputTokens = Tokens.Count(prompt),
                    CreatedUtc = Now,
                    Outcomes = [outcome],
                };
                db.HistoryPrompts.Add(existing);
            }
            else
            {
                outcome.PromptId = existing.Id;
                db.HistoryOutcomes.Add(outcome);
            }

            var newPrompt = existing.Id == 0;
            dataset.RowsRead++;
            dataset.RowsImported++;
            dataset.FinishedUtc = Now;
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct); // one transaction: the prompt, the outcome, the mapping and the counters
            Raise(datasetId, HistoryChangeKind.Feedback);
            return new HistoryFeedbackResult(datasetId, existing.Id, outcome.Id, newPrompt, map.RegistryModelId is not null);
        }
        finally
        {
            _feedbackGate.Release();
        }
    }

    // ---------------------------------------------------------------- the estimator's view

    /// <summary>The newest outcome's id (0 without history): the estimator reads rows up to it.</summary>
    public async Task<long> LastOutcomeIdAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.HistoryOutcomes.MaxAsync(o => (long?)o.Id, ct) ?? 0;
    }

    /// <summary>
    /// The outcomes with ids in (<paramref name="afterOutcomeId"/>, <paramref name="upToOutcomeId"/>] whose dataset model
    /// is mapped, under the registry model's name, in id order: consecutive outcomes of one prompt are one entry.
    /// Read in pages of <paramref name="pageSize"/> outcomes, so a large history is never held at once.
    /// </summary>
    public IEnumerable<HistoryEntry> ReadMappedEntries(long afterOutcomeId, long upToOutcomeId, int pageSize = 5000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var last = afterOutcomeId;
        while (last < upToOutcomeId)
        {
            List<HistoryEntry> entries;
            using (var db = dbFactory.CreateDbContext())
            {
                var after = last;
                var page = (
                    from o in db.HistoryOutcomes
                    join p in db.HistoryPrompts on o.PromptId equals p.Id
                    join m in db.HistoryModelMap on new { p.DatasetId, o.DatasetModel } equals new { m.DatasetId, m.DatasetModel }
                    join r in db.Models on m.RegistryModelId equals (int?)r.Id
                    where o.Id > after && o.Id <= upToOutcomeId
                    orderby o.Id
                    select new MappedOutcome(o.Id, o.PromptId, r.Name, o.Score, o.OutputTokens, o.CostUsd)).Take(pageSize).ToList();
                if (page.Count == 0)
                {
                    yield break;
                }

                // A full page may end inside a prompt's outcomes: leave those for the next page, so a prompt is one entry
                // (unless a single prompt fills the page).
                var full = page.Count == pageSize;
                if (full && page[0].PromptId != page[^1].PromptId)
                {
                    var trailing = page[^1].PromptId;
                    while (page[^1].PromptId == trailing)
                    {
                        page.RemoveAt(page.Count - 1);
                    }
                }

                var ids = page.Select(o => o.PromptId).Distinct().ToList();
                var texts = db.HistoryPrompts.Where(p => ids.Contains(p.Id)).Select(p => new { p.Id, p.Prompt }).ToDictionary(p => p.Id, p => p.Prompt);
                entries = [];
                var outcomes = new List<ModelOutcome>();
                for (var i = 0; i < page.Count; i++)
                {
                    var o = page[i];
                    outcomes.Add(new ModelOutcome(o.Model, o.Score, o.OutputTokens, o.CostUsd));
                    if (i + 1 == page.Count || page[i + 1].PromptId != o.PromptId)
                    {
                        entries.Add(new HistoryEntry(texts[o.PromptId], outcomes));
                        outcomes = [];
                    }
                }

                last = full ? page[^1].Id : upToOutcomeId;
            }

            foreach (var entry in entries)
            {
                yield return entry;
            }
        }
    }

    /// <summary>The registry names of every mapped registry model, by id: what the estimator's keys depend on.</summary>
    public async Task<IReadOnlyDictionary<int, string>> MappedRegistryNamesAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = db.HistoryModelMap.Where(m => m.RegistryModelId != null).Select(m => m.RegistryModelId!.Value).Distinct();
        return await db.Models.Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, m => m.Name, ct);
    }

    // ---------------------------------------------------------------- internals

    // What an import keeps between batches: the counters as committed, the issues, and lookups.
    private sealed class ImportRun
    {
        public required int DatasetId { get; init; }
        public required HistoryIssueLog Issues { get; init; }
        public required Dictionary<string, long> PromptIds { get; init; }
        public required Dictionary<string, int?> Map { get; init; }
        public required RegistryLookup Registry { get; init; }
        public int RowsRead { get; set; }
        public int RowsImported { get; set; }
        public int RowsRejected { get; set; }

        /// <summary>The rows imported when the planner's statistics were last refreshed (see <see cref="AnalyzeAsync"/>).</summary>
        public int RowsAtLastAnalyze { get; set; }
    }

    private async Task<ImportRun> LoadRunAsync(int datasetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var dataset = await db.HistoryDatasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == datasetId, ct)
            ?? throw new InvalidOperationException($"History dataset {datasetId} does not exist.");
        if (dataset.Status != HistoryImportStatus.Running)
        {
            throw new InvalidOperationException($"History dataset {datasetId} is {dataset.Status}, not running; start the import with {nameof(BeginImportAsync)}.");
        }

        return new ImportRun
        {
            DatasetId = datasetId,
            Issues = HistoryIssueLog.Parse(dataset.IssuesJson),
            PromptIds = await db.HistoryPrompts.Where(p => p.DatasetId == datasetId).ToDictionaryAsync(p => p.PromptSha256, p => p.Id, StringComparer.Ordinal, ct),
            Map = await db.HistoryModelMap.Where(m => m.DatasetId == datasetId).ToDictionaryAsync(m => m.DatasetModel, m => m.RegistryModelId, StringComparer.Ordinal, ct),
            Registry = await RegistryModelsAsync(db, ct),
            RowsRead = dataset.RowsRead,
            RowsImported = dataset.RowsImported,
            RowsRejected = dataset.RowsRejected,
        };
    }

    // One batch in one transaction: new prompts, mapping rows and the dataset's counters through EF (the prompts' ids are
    // needed), the outcomes — nine in ten rows — through one prepared INSERT, as the request log does: EF's per-entity
    // bookkeeping was most of an import's time.
    private async Task CommitAsync(ImportRun run, List<HistoryRecord> batch, long bytesRead, HistoryImportOptions options, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var dataset = await db.HistoryDatasets.SingleAsync(d => d.Id == run.DatasetId, ct);
        var added = new Dictionary<string, HistoryPromptEntity>(StringComparer.Ordinal);
        var outcomes = new List<(HistoryPromptEntity? New, long PromptId, HistoryOutcomeEntity Outcome)>();
        var now = Now;
        foreach (var record in batch)
        {
            run.RowsRead++;
            foreach (var issue in record.Issues)
            {
                run.Issues.Add(record.Line, issue.Message);
            }

            if (record.Entry is not { } entry)
            {
                run.RowsRejected++;
                continue;
            }

            var scored = entry.Outcomes.Where(o => o.Score is not null).ToList();
            if (scored.Count < entry.Outcomes.Count)
            {
                run.Issues.Note("scoreless", n => $"{n:N0} outcome(s) with an output length or cost but no score were left out: the history keeps graded outcomes.",
                    entry.Outcomes.Count - scored.Count);
            }

            if (scored.Count == 0)
            {
                run.RowsRejected++;
                run.Issues.Add(record.Line, "no model has a score; skipped (the history keeps graded outcomes).");
                continue;
            }

            run.RowsImported++;
            var hash = PromptHash(entry.Prompt);
            var inputTokens = Tokens.Count(entry.Prompt);
            foreach (var o in scored)
            {
                if (!run.Map.ContainsKey(o.Model))
                {
                    var registryId = run.Registry.Find(o.Model);
                    run.Map[o.Model] = registryId;
                    db.HistoryModelMap.Add(new HistoryModelMapEntity { DatasetId = run.DatasetId, DatasetModel = o.Model, RegistryModelId = registryId });
                    if (registryId is null)
                    {
                        run.Issues.Note($"unmapped:{o.Model}", _ => $"Model '{o.Model}' matches no registry model; its rows are kept but not used until it is mapped.");
                    }
                }
            }

            HistoryPromptEntity? prompt = null;
            if (!run.PromptIds.TryGetValue(hash, out var promptId) && !added.TryGetValue(hash, out prompt))
            {
                prompt = new HistoryPromptEntity
                {
                    DatasetId = run.DatasetId,
                    Source = HistorySource.Import,
                    ExternalId = record.ExternalId is { Length: > ExternalIdMaxLength } longId ? longId[..ExternalIdMaxLength] : record.ExternalId,
                    PromptSha256 = hash,
                    Prompt = entry.Prompt,
                    InputTokens = inputTokens,
                    CreatedUtc = now,
                };
                db.HistoryPrompts.Add(prompt);
                added[hash] = prompt;
            }

            foreach (var o in scored)
            {
                outcomes.Add((prompt, promptId, Outcome(o, inputTokens, options, run.Issues)));
            }
        }

        dataset.RowsRead = run.RowsRead;
        dataset.RowsImported = run.RowsImported;
        dataset.RowsRejected = run.RowsRejected;
        dataset.BytesRead = bytesRead;
        dataset.IssuesJson = run.Issues.ToJson();
        await using (var tx = await db.Database.BeginSerializedTransactionAsync(OutcomeWriters, ct))
        {
            await db.SaveChangesAsync(ct);
            await InsertOutcomesAsync(db, tx.GetDbTransaction(), outcomes.Select(o => (o.New?.Id ?? o.PromptId, o.Outcome)), ct);
            await tx.CommitAsync(ct); // the batch's rows with the counters that describe them, or nothing
        }

        foreach (var (hash, row) in added)
        {
            run.PromptIds[hash] = row.Id;
        }

        if (run.RowsImported > 0 && run.RowsImported >= 2 * run.RowsAtLastAnalyze)
        {
            await AnalyzeAsync(db, ct);
            run.RowsAtLastAnalyze = run.RowsImported;
        }

        Raise(run.DatasetId, HistoryChangeKind.Progress);
    }

    /// <summary>
    /// Refreshes PostgreSQL's planner statistics of the history after an import has grown it: autovacuum does so only
    /// minutes later, and until then the planner, taking the tables for nearly empty, joins every outcome read to every
    /// prompt of its dataset (seconds for a few thousand rows, where fresh statistics take milliseconds). Called when an
    /// import has doubled its rows since the last refresh, a few times per import, and when it ends. SQLite plans the
    /// history's reads by its indexes alone.
    /// </summary>
    private static async Task AnalyzeAsync(FlareDbContext db, CancellationToken ct)
    {
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlRawAsync("""ANALYZE "HistoryPrompts", "HistoryOutcomes" """, ct);
        }
    }

    private static Task InsertOutcomesAsync(
        FlareDbContext db, System.Data.Common.DbTransaction tx, IEnumerable<(long PromptId, HistoryOutcomeEntity Outcome)> rows, CancellationToken ct) =>
        PreparedInsert<HistoryOutcomeEntity>.For(db).ExecuteAsync(tx, rows.Select(r =>
        {
            r.Outcome.PromptId = r.PromptId;
            return r.Outcome;
        }), ct);

    private static HistoryOutcomeEntity Outcome(ModelOutcome o, int inputTokens, HistoryImportOptions options, HistoryIssueLog issues)
    {
        var cost = o.CostUsd;
        if (cost is null && options.Prices is { } prices)
        {
            if (PriceTable.Find(prices, o.Model) is { } price)
            {
                cost = PriceTable.Cost(price, inputTokens, o.OutputTokens ?? options.AssumedOutputTokens);
                if (o.OutputTokens is null)
                {
                    issues.Note("assumed-output", n =>
                        $"{n:N0} cost(s) from the price table assume {options.AssumedOutputTokens} output tokens per answer: the file gives no output length for them.");
                }
            }
            else
            {
                issues.Note($"price:{o.Model}", _ => $"The price table has no price for '{o.Model}'; its rows have no cost.");
            }
        }

        return new HistoryOutcomeEntity { DatasetModel = o.Model, Score = o.Score!.Value, OutputTokens = o.OutputTokens, CostUsd = cost };
    }

    private async Task<HistoryDatasetView> FinishAsync(ImportRun run, string? failure, int failureLine, long bytesRead, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var dataset = await db.HistoryDatasets.SingleAsync(d => d.Id == run.DatasetId, ct);
        if (failure is not null)
        {
            run.Issues.Add(failureLine, failure);
            dataset.Status = HistoryImportStatus.Failed;
            dataset.Failure = Clip(run.RowsImported > 0 ? $"{failure} The {run.RowsImported:N0} rows before it are kept." : failure);
        }
        else if (run.RowsImported == 0)
        {
            dataset.Status = HistoryImportStatus.Failed;
            dataset.Failure = Clip(run.RowsRead == 0
                ? "The file has no rows."
                : $"No row could be imported; the first problem: {run.Issues.Issues.FirstOrDefault(i => i.Line is not null)?.Message ?? run.Issues.Issues.FirstOrDefault()?.Message}");
        }
        else
        {
            dataset.Status = HistoryImportStatus.Completed;
            dataset.Failure = null;
        }

        dataset.BytesRead = bytesRead;
        dataset.FinishedUtc = Now;
        dataset.IssuesJson = run.Issues.ToJson();
        await db.SaveChangesAsync(ct);
        if (run.RowsImported > run.RowsAtLastAnalyze)
        {
            await AnalyzeAsync(db, ct); // before the estimator's rebuild reads the whole history
        }

        Raise(run.DatasetId, HistoryChangeKind.Finished);
        return await ViewAsync(db, run.DatasetId, ct);
    }

    // Ends an import that threw: the status only, so the counters and issues stay those of the last committed batch.
    private async Task EndAsync(int datasetId, HistoryImportStatus status, string failure)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var now = Now;
        await db.HistoryDatasets.Where(d => d.Id == datasetId && d.Status == HistoryImportStatus.Running).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, status)
            .SetProperty(d => d.Failure, Clip(failure))
            .SetProperty(d => d.FinishedUtc, now));
        Raise(datasetId, HistoryChangeKind.Finished);
    }

    private async Task<int> EnsureFeedbackDatasetAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var id = await db.HistoryDatasets.Where(d => d.Format == HistoryFormats.Feedback).OrderBy(d => d.Id).Select(d => (int?)d.Id).FirstOrDefaultAsync(ct);
        if (id is { } existing)
        {
            return existing;
        }

        var row = new HistoryDatasetEntity
        {
            Name = "feedback",
            Format = HistoryFormats.Feedback,
            Status = HistoryImportStatus.Completed,
            StartedUtc = Now,
        };
        db.HistoryDatasets.Add(row);
        await db.SaveChangesAsync(ct);
        return row.Id;
    }

    private async Task<bool> AnyWithHashAsync(string sha, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.HistoryDatasets.AnyAsync(d => d.ContentSha256 == sha, ct);
    }

    private static async Task<RegistryLookup> RegistryModelsAsync(FlareDbContext db, CancellationToken ct) =>
        new(await db.Models.OrderBy(m => m.Id).Select(m => new KeyValuePair<string, int>(m.Name, m.Id)).ToListAsync(ct));

    // Filter and order the rows, then project: EF cannot filter on the view's constructor arguments.
    private static IQueryable<HistoryDatasetView> Views(FlareDbContext db, IQueryable<HistoryDatasetEntity> rows) =>
        rows.Select(d => new HistoryDatasetView(
            d.Id, d.Name, d.Format, d.Status, d.StartedUtc, d.FinishedUtc, d.RowsRead, d.RowsImported, d.RowsRejected, d.BytesRead, d.BytesTotal, d.Failure,
            db.HistoryModelMap.Count(m => m.DatasetId == d.Id),
            db.HistoryModelMap.Count(m => m.DatasetId == d.Id && m.RegistryModelId == null),
            d.ContentSha256));

    private static Task<HistoryDatasetView> ViewAsync(FlareDbContext db, int id, CancellationToken ct) => Views(db, db.HistoryDatasets.Where(d => d.Id == id)).SingleAsync(ct);

    private static async Task<IReadOnlyList<HistoryModelMapView>> MapViewsAsync(FlareDbContext db, int id, CancellationToken ct)
    {
        var counts = await (
            from o in db.HistoryOutcomes
            join p in db.HistoryPrompts on o.PromptId equals p.Id
            where p.DatasetId == id
            group o by o.DatasetModel into g
            select new { Model = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Model, g => g.Count, StringComparer.Ordinal, ct);
        var rows = await (
            from m in db.HistoryModelMap
            where m.DatasetId == id
            join r in db.Models on m.RegistryModelId equals (int?)r.Id into registry
            from r in registry.DefaultIfEmpty()
            orderby m.Id
            select new { m.DatasetModel, m.RegistryModelId, Name = r == null ? null : r.Name }).ToListAsync(ct);
        return rows.ConvertAll(r => new HistoryModelMapView(r.DatasetModel, r.RegistryModelId, r.Name, counts.GetValueOrDefault(r.DatasetModel)));
    }

    private static string Clip(string text) => text.Length > 2000 ? text[..1997] + "…" : text;

    private void Raise(int datasetId, HistoryChangeKind kind) => changes.Raise(new HistoryChange(datasetId, kind));

    // Registry models by name: the same name, else the same name ignoring case (the lowest id wins a tie).
    private sealed class RegistryLookup(IReadOnlyList<KeyValuePair<string, int>> models)
    {
        public int? Find(string name)
        {
            foreach (var (model, id) in models)
            {
                if (model == name)
                {
                    return id;
                }
            }

            foreach (var (model, id) in models)
            {
                if (string.Equals(model, name, StringComparison.OrdinalIgnoreCase))
                {
                    return id;
                }
            }

            return null;
        }
    }
}
