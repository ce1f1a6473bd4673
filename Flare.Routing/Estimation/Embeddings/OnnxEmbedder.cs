using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace Flare.Routing.Estimation.Embeddings;

/// <summary>Options of <see cref="OnnxEmbedder"/>.</summary>
public sealed record OnnxEmbedderOptions
{
    /// <summary>Path of the sentence-embedding model (<c>.onnx</c>), e.g. an export of all-MiniLM-L6-v2. Required.
    /// Its inputs are <c>input_ids</c> and, when it has them, <c>attention_mask</c> and <c>token_type_ids</c>
    /// (int64, [batch, sequence]); its output is a [batch, sequence, dim] hidden state (mean-pooled over the
    /// attention mask) or an already pooled [batch, dim] embedding.</summary>
    [Required]
    public string ModelPath { get; init; } = "";

    /// <summary>Path of the model's WordPiece vocabulary (<c>vocab.txt</c>, one token a line). Required.</summary>
    [Required]
    public string VocabularyPath { get; init; } = "";

    /// <summary>Tokens per prompt, [CLS] and [SEP] included; longer prompts are cut (default 256).</summary>
    [Range(3, 8192)]
    public int MaxTokens { get; init; } = 256;

    /// <summary>Prompts per model run in <see cref="OnnxEmbedder.EmbedBatch"/> (default 32).</summary>
    [Range(1, 4096)]
    public int BatchSize { get; init; } = 32;

    /// <summary>Lower-case before WordPiece, as uncased BERT models expect (default true).</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>Name of the output to read (default null: <c>last_hidden_state</c> if present, else the first).</summary>
    public string? OutputName { get; init; }

    /// <summary>Run on CUDA device <see cref="CudaDeviceId"/> (default false). When the CUDA provider is not
    /// available (the CPU package, no GPU, no driver) Flare logs why and runs on the CPU.</summary>
    public bool UseCuda { get; init; }

    /// <summary>The CUDA device (default 0).</summary>
    [Range(0, 64)]
    public int CudaDeviceId { get; init; }

    /// <summary>Threads ONNX Runtime may use inside one run (default 0: its own choice, one per core).</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; init; }
}

/// <summary>
/// Embeds prompts with a sentence-embedding model the operator provides, run by ONNX Runtime: WordPiece
/// (<see cref="BertTokenizer"/>) → model → mean pooling over the attention mask → L2 normalisation.
/// </summary>
/// <remarks>
/// <see cref="Create"/> loads the model and embeds a probe text, so a missing, unreadable or incompatible model
/// fails at start with a message naming the file, not at the first request. ONNX Runtime's <c>Run</c> is
/// thread-safe; so is this class.
/// </remarks>
public sealed partial class OnnxEmbedder : IPromptEmbedder, IDisposable
{
    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly OnnxEmbedderOptions _options;
    private readonly string _outputName;
    private readonly bool _hasAttentionMask;
    private readonly bool _hasTokenTypeIds;

    private OnnxEmbedder(InferenceSession session, BertTokenizer tokenizer, OnnxEmbedderOptions options, string outputName, string executionProvider)
    {
        _session = session;
        _tokenizer = tokenizer;
        _options = options;
        _outputName = outputName;
        _hasAttentionMask = session.InputMetadata.ContainsKey("attention_mask");
        _hasTokenTypeIds = session.InputMetadata.ContainsKey("token_type_ids");
        ExecutionProvider = executionProvider;
    }

    /// <inheritdoc />
    public string Name => EmbedderNames.Onnx;

    /// <inheritdoc />
    public int Dimensions { get; private set; }

    /// <summary>Where the model runs: <c>cpu</c> or <c>cuda</c>.</summary>
    public string ExecutionProvider { get; }

    /// <summary>Loads the model and the vocabulary and checks them with a probe embedding.</summary>
    /// <exception cref="InvalidOperationException">The model or the vocabulary is missing, unreadable or not
    /// a sentence-embedding model Flare can run; the message says which file and why.</exception>
    public static OnnxEmbedder Create(OnnxEmbedderOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        var modelPath = Path.GetFullPath(options.ModelPath);
        var vocabularyPath = Path.GetFullPath(options.VocabularyPath);
        if (!File.Exists(modelPath))
        {
            throw new InvalidOperationException($"The ONNX embedding model {modelPath} does not exist; set the model path to an .onnx sentence-embedding model, or use the built-in embedder '{EmbedderNames.HashedNgram}'.");
        }

        if (!File.Exists(vocabularyPath))
        {
            throw new InvalidOperationException($"The vocabulary {vocabularyPath} of the ONNX embedding model does not exist; it is the model's vocab.txt (WordPiece, one token a line).");
        }

        BertTokenizer tokenizer;
        try
        {
            tokenizer = BertTokenizer.Create(vocabularyPath, new BertOptions { LowerCaseBeforeTokenization = options.LowerCase });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"The vocabulary {vocabularyPath} could not be read as a WordPiece vocabulary: {e.Message}", e);
        }

        using var sessionOptions = new SessionOptions { IntraOpNumThreads = options.IntraOpThreads };
        var provider = "cpu";
        if (options.UseCuda)
        {
            try
            {
                sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
                provider = "cuda";
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or OnnxRuntimeException)
            {
                // The CPU package has no CUDA entry point; a GPU package without a driver fails to load the provider.
                Log.CudaUnavailable(logger, options.CudaDeviceId, e.GetType().Name, e.Message);
            }
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(modelPath, sessionOptions);
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException or IOException)
        {
            throw new InvalidOperationException($"The ONNX embedding model {modelPath} could not be loaded: {e.Message}", e);
        }

        try
        {
            if (!session.InputMetadata.ContainsKey("input_ids"))
            {
                throw new InvalidOperationException(
                    $"The ONNX embedding model {modelPath} has no input 'input_ids' (it has {string.Join(", ", session.InputMetadata.Keys)}); Flare runs BERT-style sentence-embedding models.");
            }

            var outputName = options.OutputName
                ?? (session.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : session.OutputMetadata.Keys.First());
            if (!session.OutputMetadata.ContainsKey(outputName))
            {
                throw new InvalidOperationException(
                    $"The ONNX embedding model {modelPath} has no output '{outputName}' (it has {string.Join(", ", session.OutputMetadata.Keys)}).");
            }

            var embedder = new OnnxEmbedder(session, tokenizer, options, outputName, provider);
            try
            {
                embedder.Dimensions = embedder.Run(["Flare checks the embedding model."])[0].Length;
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidOperationException($"The ONNX embedding model {modelPath} failed on a probe prompt: {e.Message}", e);
            }

            Log.Loaded(logger, modelPath, embedder.Dimensions, provider);
            return embedder;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Embed(string text, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (destination.Length != Dimensions)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats, not {Dimensions}.", nameof(destination));
        }

        Run([text])[0].CopyTo(destination);
    }

    /// <inheritdoc />
    public float[][] EmbedBatch(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += _options.BatchSize)
        {
            var batch = new List<string>(_options.BatchSize);
            for (var i = start; i < Math.Min(texts.Count, start + _options.BatchSize); i++)
            {
                batch.Add(texts[i]);
            }

            Run(batch).CopyTo(result, start);
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private float[][] Run(IReadOnlyList<string> texts)
    {
        var encoded = new List<int>[texts.Count];
        var length = 1;
        for (var i = 0; i < texts.Count; i++)
        {
            var ids = _tokenizer.EncodeToIds(texts[i], addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true);
            var list = new List<int>(ids);
            if (list.Count > _options.MaxTokens)
            {
                list.RemoveRange(_options.MaxTokens - 1, list.Count - _options.MaxTokens + 1);
                list.Add(_tokenizer.SeparatorTokenId);
            }

            encoded[i] = list;
            length = Math.Max(length, list.Count);
        }

        var batch = texts.Count;
        var inputIds = new long[batch * length];
        var mask = new long[batch * length];
        Array.Fill(inputIds, _tokenizer.PaddingTokenId);
        for (var i = 0; i < batch; i++)
        {
            for (var t = 0; t < encoded[i].Count; t++)
            {
                inputIds[(i * length) + t] = encoded[i][t];
                mask[(i * length) + t] = 1;
            }
        }

        long[] shape = [batch, length];
        var names = new List<string> { "input_ids" };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(inputIds, shape) };
        if (_hasAttentionMask)
        {
            names.Add("attention_mask");
            values.Add(OrtValue.CreateTensorValueFromMemory(mask, shape));
        }

        if (_hasTokenTypeIds)
        {
            names.Add("token_type_ids");
            values.Add(OrtValue.CreateTensorValueFromMemory(new long[batch * length], shape));
        }

        try
        {
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, [_outputName]);
            var output = outputs[0];
            var outputShape = output.GetTensorTypeAndShape().Shape;
            var data = output.GetTensorDataAsSpan<float>();
            return outputShape.Length switch
            {
                3 when outputShape[0] == batch && outputShape[1] == length => MeanPool(data, mask, batch, length, (int)outputShape[2]),
                2 when outputShape[0] == batch => Rows(data, batch, (int)outputShape[1]),
                _ => throw new InvalidOperationException(
                    $"The ONNX embedding model's output '{_outputName}' has shape [{string.Join(", ", outputShape)}]; expected [batch, sequence, dim] or [batch, dim]."),
            };
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    // Sentence-transformers' mean pooling: Σ_t mask_t·h_t / Σ_t mask_t, then L2-normalised.
    private static float[][] MeanPool(ReadOnlySpan<float> hidden, long[] mask, int batch, int length, int dim)
    {
        var result = new float[batch][];
        for (var b = 0; b < batch; b++)
        {
            var vector = new float[dim];
            var tokens = 0;
            for (var t = 0; t < length; t++)
            {
                if (mask[(b * length) + t] == 0)
                {
                    continue;
                }

                tokens++;
                var row = hidden.Slice(((b * length) + t) * dim, dim);
                for (var d = 0; d < dim; d++)
                {
                    vector[d] += row[d];
                }
            }

            for (var d = 0; d < dim && tokens > 0; d++)
            {
                vector[d] /= tokens;
            }

            VectorMath.Normalize(vector);
            result[b] = vector;
        }

        return result;
    }

    private static float[][] Rows(ReadOnlySpan<float> data, int batch, int dim)
    {
        var result = new float[batch][];
        for (var b = 0; b < batch; b++)
        {
            result[b] = data.Slice(b * dim, dim).ToArray();
            VectorMath.Normalize(result[b]);
        }

        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, Level = LogLevel.Warning,
            Message = "CUDA was requested for the ONNX embedding model (device {DeviceId}) but is not available ({ExceptionType}: {Reason}); running on the CPU.")]
        public static partial void CudaUnavailable(ILogger logger, int deviceId, string exceptionType, string reason);

        [LoggerMessage(EventId = 6102, Level = LogLevel.Information,
            Message = "Loaded the ONNX embedding model {ModelPath}: {Dimensions} dimensions, on {ExecutionProvider}.")]
        public static partial void Loaded(ILogger logger, string modelPath, int dimensions, string executionProvider);
    }
}
