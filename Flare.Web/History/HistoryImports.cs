using System.Security.Cryptography;
using System.Threading.Channels;
using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Routing.Estimation.Datasets;
using Flare.Routing.Optimization.Evaluation;
using Flare.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Flare.Web.History;

/// <summary>What an upload says about its file.</summary>
/// <param name="Format"><c>jsonl</c>, <c>csv</c>, <c>routerbench</c> or <c>llmrouter</c>.</param>
/// <param name="Name">The dataset's name; default: the file's name, else the format and the date.</param>
/// <param name="PricesJson">A price table in LLMRouter's <c>default_llm.json</c> layout, to cost rows the file gives no cost for.</param>
/// <param name="AssumedOutputTokens">Output tokens assumed when pricing a row without an output length (default 256).</param>
/// <param name="FileName">The uploaded file's name, when known.</param>
public sealed record HistoryUploadRequest(string? Format, string? Name = null, string? PricesJson = null, int? AssumedOutputTokens = null, string? FileName = null);

/// <summary>Where an upload went: the dataset, and whether its import runs now (<see cref="HistoryImportStart.New"/>,
/// <see cref="HistoryImportStart.Resumed"/>) or the same file was imported before (<see cref="HistoryImportStart.Existing"/>).</summary>
public sealed record HistoryUploadResult(HistoryDatasetView Dataset, HistoryImportStart Start);

/// <summary>An uploaded file saved in the data directory, with its SHA-256.</summary>
public sealed record HistoryUpload(string Path, string Sha256, long Bytes);

/// <summary>
/// Imports of history files, for the UI and <c>/api</c>: an upload is streamed to a file in the data directory (its
/// SHA-256 computed on the way), matched against earlier imports by that hash, and queued; a background worker imports
/// the queue one file at a time through <see cref="HistoryStore.ImportAsync"/>, letting the live estimator add each
/// committed batch. The file is deleted when its import ends.
/// </summary>
public sealed partial class HistoryImports(
    HistoryStore store,
    HistoryIndexService index,
    IOptions<HistoryOptions> options,
    IOptions<FlareOptions> flare,
    IHostEnvironment environment,
    ILogger<HistoryImports> log) : BackgroundService
{
    private readonly Channel<QueuedImport> _queue = Channel.CreateUnbounded<QueuedImport>(new UnboundedChannelOptions { SingleReader = true });

    private sealed record QueuedImport(int DatasetId, string Path, HistoryImportOptions Options);

    /// <summary>Where uploads wait for their import: <c>uploads/</c> beside the database.</summary>
    public string UploadDirectory => Path.Combine(
        Path.GetDirectoryName(flare.Value.DatabasePath(environment.ContentRootPath))!, "uploads");

    /// <summary>The largest upload accepted, in bytes.</summary>
    public long MaxUploadBytes => options.Value.MaxUploadBytes;

    /// <summary>Streams <paramref name="content"/> to a new file in <see cref="UploadDirectory"/>, hashing it on the way.
    /// Invalid (and no file left) when it is empty or larger than <see cref="MaxUploadBytes"/>.</summary>
    public async Task<Outcome<HistoryUpload>> SaveAsync(Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        Directory.CreateDirectory(UploadDirectory);
        var path = Path.Combine(UploadDirectory, $"history-{Guid.NewGuid():n}.upload");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0;
        var tooLarge = false;
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    bytes += read;
                    if (bytes > MaxUploadBytes)
                    {
                        tooLarge = true;
                        break;
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }

        if (tooLarge || bytes == 0)
        {
            File.Delete(path);
            return Outcome<HistoryUpload>.Invalid("file", tooLarge
                ? $"The file is larger than {MaxUploadBytes:N0} bytes (Flare:History:MaxUploadBytes)."
                : "The file is empty.");
        }

        return Outcome<HistoryUpload>.Ok(new HistoryUpload(path, Convert.ToHexStringLower(hash.GetHashAndReset()), bytes));
    }

    /// <summary>
    /// Starts the import of a saved upload: checks the request, finds or creates the dataset by the file's hash, and
    /// queues the import when it must run. The upload's file is taken over (deleted when it is not needed).
    /// </summary>
    public async Task<Outcome<HistoryUploadResult>> StartAsync(HistoryUploadRequest request, HistoryUpload upload, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(upload);
        var queued = false;
        try
        {
            var check = Check(request);
            if (!check.IsOk)
            {
                return Outcome<HistoryUploadResult>.Invalid(check.Errors);
            }

            var (format, prices) = check.Value;
            var name = !string.IsNullOrWhiteSpace(request.Name) ? request.Name.Trim()
                : !string.IsNullOrWhiteSpace(request.FileName) ? Path.GetFileName(request.FileName.Trim())
                : $"{HistoryDatasets.Name(format)} upload {DateTime.UtcNow:yyyy-MM-dd HH:mm}";
            var ticket = await store.BeginImportAsync(name, format, upload.Sha256, upload.Bytes, ct);
            if (!ticket.IsOk)
            {
                return ticket.Kind == OutcomeKind.Invalid
                    ? Outcome<HistoryUploadResult>.Invalid(ticket.Errors)
                    : Outcome<HistoryUploadResult>.Conflict(ticket.Message ?? "", ticket.Errors.IsEmpty ? null : "format");
            }

            var (dataset, start) = (ticket.Value!.Dataset, ticket.Value.Start);
            if (ticket.Value.MustRun)
            {
                var importOptions = new HistoryImportOptions
                {
                    Format = format,
                    Prices = prices,
                    AssumedOutputTokens = request.AssumedOutputTokens ?? 256,
                    BatchSize = options.Value.ImportBatchSize,
                };
                queued = _queue.Writer.TryWrite(new QueuedImport(dataset.Id, upload.Path, importOptions));
                LogQueued(dataset.Id, dataset.Name, HistoryDatasets.Name(format), upload.Bytes, start);
            }

            return Outcome<HistoryUploadResult>.Ok(new HistoryUploadResult(dataset, start));
        }
        finally
        {
            if (!queued)
            {
                File.Delete(upload.Path);
            }
        }
    }

    /// <summary>Checks an upload's format, price table and assumed output length.</summary>
    public static Outcome<(HistoryFormat Format, IReadOnlyDictionary<string, ModelPrice>? Prices)> Check(HistoryUploadRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Flare.Routing.Registry.FieldErrors();
        if (!HistoryDatasets.TryParseFormat(request.Format, out var format))
        {
            errors.Add("format", string.IsNullOrWhiteSpace(request.Format)
                ? "Say the file's format: jsonl, csv, routerbench or llmrouter."
                : $"Unknown format '{request.Format}': use jsonl, csv, routerbench or llmrouter.");
        }

        IReadOnlyDictionary<string, ModelPrice>? prices = null;
        if (!string.IsNullOrWhiteSpace(request.PricesJson) && !PriceTable.TryParse(request.PricesJson, out prices, out var priceError))
        {
            errors.Add("prices", priceError!);
        }

        if (request.AssumedOutputTokens is < 0 or > 1_000_000)
        {
            errors.Add("assumedOutputTokens", "The assumed output length must be between 0 and 1,000,000 tokens.");
        }

        if (request.Name is { Length: > 200 })
        {
            errors.Add("name", "The dataset's name must have at most 200 characters.");
        }

        return errors.IsEmpty
            ? Outcome<(HistoryFormat, IReadOnlyDictionary<string, ModelPrice>?)>.Ok((format, prices))
            : Outcome<(HistoryFormat, IReadOnlyDictionary<string, ModelPrice>?)>.Invalid(errors);
    }

    /// <summary>Deletes upload files a previous process left behind (their imports are marked interrupted).</summary>
    public int DeleteLeftoverUploads()
    {
        if (!Directory.Exists(UploadDirectory))
        {
            return 0;
        }

        var files = Directory.GetFiles(UploadDirectory, "history-*.upload");
        foreach (var file in files)
        {
            File.Delete(file);
        }

        return files.Length;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var import in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await RunAsync(import, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Queued imports not started stay running in the database; the next start marks them interrupted.
        }
    }

    private async Task RunAsync(QueuedImport import, CancellationToken ct)
    {
        try
        {
            await using var file = new FileStream(import.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var result = await store.ImportAsync(import.DatasetId, file, import.Options, index.CatchUpAsync, ct);
            LogFinished(result.Id, result.Name, result.Status, result.RowsImported, result.RowsRejected);
            index.ImportFinished();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogFailed(ex, import.DatasetId);
        }
        finally
        {
            File.Delete(import.Path);
        }
    }

    [LoggerMessage(EventId = 6210, Level = LogLevel.Information, Message = "History dataset {DatasetId} ('{Name}', {Format}, {Bytes} bytes) queued for import ({Start})")]
    private partial void LogQueued(int datasetId, string name, string format, long bytes, HistoryImportStart start);

    [LoggerMessage(EventId = 6211, Level = LogLevel.Information, Message = "History dataset {DatasetId} ('{Name}') import {Status}: {Imported} rows imported, {Rejected} rejected")]
    private partial void LogFinished(int datasetId, string name, HistoryImportStatus status, int imported, int rejected);

    [LoggerMessage(EventId = 6212, Level = LogLevel.Error, Message = "The import of history dataset {DatasetId} failed")]
    private partial void LogFailed(Exception ex, int datasetId);
}
