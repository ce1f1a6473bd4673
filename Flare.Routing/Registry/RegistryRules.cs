namespace Flare.Routing.Registry;

/// <summary>
/// The registry's validation rules, shared by the UI forms and the <c>/api</c> endpoints so that both
/// reject the same input with the same words. Errors are keyed by the input's property name.
/// </summary>
public static class RegistryRules
{
    public const int MaxNameLength = 100;
    public static readonly IReadOnlyList<int> TensorParallelDegrees = [1, 2, 4, 8];

    /// <summary>Bytes per parameter at 16 bits (bf16/fp16).</summary>
    public const double BytesPerParameter16Bit = 2.0;

    public static FieldErrors Validate(GpuTypeInput input)
    {
        var errors = new FieldErrors();
        RequireName(errors, nameof(input.Name), input.Name);
        Positive(errors, nameof(input.MemoryGiB), input.MemoryGiB, "Memory", max: 4096);
        NonNegative(errors, nameof(input.PricePerHourUsd), input.PricePerHourUsd, "Price per hour", max: 10_000);
        Positive(errors, nameof(input.PeakBf16Tflops), input.PeakBf16Tflops, "Peak bf16 TFLOP/s", max: 1_000_000);
        Positive(errors, nameof(input.MemoryBandwidthGBs), input.MemoryBandwidthGBs, "Memory bandwidth", max: 1_000_000);
        if (input.PoolCount is { } count)
        {
            ValidatePoolCount(errors, count);
        }

        return errors;
    }

    public static FieldErrors ValidatePoolCount(int count) => ValidatePoolCount(new FieldErrors(), count);

    private static FieldErrors ValidatePoolCount(FieldErrors errors, int count)
    {
        if (count < 0)
        {
            errors.Add(nameof(GpuTypeInput.PoolCount), "The GPU pool cannot hold a negative number of GPUs.");
        }
        else if (count > 100_000)
        {
            errors.Add(nameof(GpuTypeInput.PoolCount), "A pool of more than 100,000 GPUs of one type is not supported.");
        }

        return errors;
    }

    public static FieldErrors Validate(ModelInput input)
    {
        var errors = new FieldErrors();
        RequireName(errors, nameof(input.Name), input.Name);
        if (input.Family is { Length: > MaxNameLength })
        {
            errors.Add(nameof(input.Family), $"Family must be at most {MaxNameLength} characters.");
        }

        Positive(errors, nameof(input.ParameterCountBillions), input.ParameterCountBillions, "Parameter count", max: 100_000);
        if (input.ContextLength is < 1 or > 100_000_000)
        {
            errors.Add(nameof(input.ContextLength), "Context length must be between 1 and 100,000,000 tokens.");
        }

        if (input.InputPricePerMTokUsd is { } pin)
        {
            NonNegative(errors, nameof(input.InputPricePerMTokUsd), pin, "Input price", max: 100_000);
        }

        if (input.OutputPricePerMTokUsd is { } pout)
        {
            NonNegative(errors, nameof(input.OutputPricePerMTokUsd), pout, "Output price", max: 100_000);
        }

        if ((input.InputPricePerMTokUsd is null) != (input.OutputPricePerMTokUsd is null))
        {
            var missing = input.InputPricePerMTokUsd is null ? nameof(input.InputPricePerMTokUsd) : nameof(input.OutputPricePerMTokUsd);
            errors.Add(missing, "Give both API prices (input and output) or neither.");
        }

        foreach (var tag in input.Tags ?? [])
        {
            if (string.IsNullOrWhiteSpace(tag) || tag.Length > 50 || tag.Contains(','))
            {
                errors.Add(nameof(input.Tags), "Each tag must be 1–50 characters without commas.");
                break;
            }
        }

        return errors;
    }

    /// <summary>Checks a deployment's own fields; whether its model and GPU type exist is the store's check.</summary>
    public static FieldErrors Validate(DeploymentInput input)
    {
        var errors = new FieldErrors();
        RequireName(errors, nameof(input.Name), input.Name);
        if (input.ModelId <= 0)
        {
            errors.Add(nameof(input.ModelId), "Choose the model this deployment serves.");
        }

        if (!Uri.TryCreate(input.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add(nameof(input.BaseUrl), "Base URL must be an absolute http:// or https:// URL, e.g. http://10.0.0.5:8000/v1.");
        }
        else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            errors.Add(nameof(input.BaseUrl), "Base URL must not have a query string or fragment.");
        }

        if (string.IsNullOrWhiteSpace(input.ServedModelName))
        {
            errors.Add(nameof(input.ServedModelName), "Served model name is required (the 'model' value the backend expects).");
        }
        else if (input.ServedModelName.Length > 200)
        {
            errors.Add(nameof(input.ServedModelName), "Served model name must be at most 200 characters.");
        }

        if (input.ApiKey is { Length: > 4096 })
        {
            errors.Add(nameof(input.ApiKey), "API key must be at most 4096 characters.");
        }

        if (input.Kind == DeploymentKind.Api)
        {
            if (input.GpuTypeId is not null || input.GpuCount != 0)
            {
                errors.Add(nameof(input.GpuTypeId), "An API deployment runs on the provider's hardware: leave GPU type empty and GPU count 0.");
            }
        }
        else
        {
            if (input.GpuTypeId is null or <= 0)
            {
                errors.Add(nameof(input.GpuTypeId), "Choose the GPU type this deployment runs on.");
            }

            if (input.GpuCount is < 1 or > 64)
            {
                errors.Add(nameof(input.GpuCount), "GPU count must be between 1 and 64.");
            }
        }

        if (!TensorParallelDegrees.Contains(input.TensorParallel))
        {
            errors.Add(nameof(input.TensorParallel), "Tensor-parallel degree must be 1, 2, 4 or 8.");
        }
        else if (input.Kind != DeploymentKind.Api && input.GpuCount >= 1 && input.GpuCount % input.TensorParallel != 0)
        {
            errors.Add(nameof(input.TensorParallel), $"GPU count {input.GpuCount} is not a multiple of the tensor-parallel degree {input.TensorParallel}.");
        }

        if (input.MaxConcurrency is < 1 or > 100_000)
        {
            errors.Add(nameof(input.MaxConcurrency), "Max concurrency must be between 1 and 100,000.");
        }

        if (input.Emulator is { } emulator)
        {
            ValidateEmulator(errors, emulator);
        }

        return errors;
    }

    /// <summary>HTTP statuses the emulator can inject.</summary>
    public static readonly IReadOnlyList<int> EmulatorErrorStatuses = [500, 503, 429];

    private static void ValidateEmulator(FieldErrors errors, EmulatorSettings e)
    {
        const string prefix = nameof(DeploymentInput.Emulator) + ".";
        if (e.Profile is { Length: > 100 })
        {
            errors.Add(prefix + nameof(e.Profile), "Profile name must be at most 100 characters.");
        }

        Fraction(errors, prefix + nameof(e.ErrorRate), e.ErrorRate, "Error rate");
        Fraction(errors, prefix + nameof(e.SpikeProbability), e.SpikeProbability, "Spike probability");
        Fraction(errors, prefix + nameof(e.DisconnectProbability), e.DisconnectProbability, "Disconnect probability");
        if (!EmulatorErrorStatuses.Contains(e.ErrorStatusCode))
        {
            errors.Add(prefix + nameof(e.ErrorStatusCode), "Injected error status must be 500, 503 or 429.");
        }

        foreach (var (name, value) in new[] { (nameof(e.SpikeMs), e.SpikeMs), (nameof(e.FirstTokenStallMs), e.FirstTokenStallMs) })
        {
            if (!double.IsFinite(value) || value is < 0 or > 600_000)
            {
                errors.Add(prefix + name, "Delays must be between 0 and 600,000 ms.");
            }
        }

        if (e.DisconnectAfterTokens is < 0 or > 1_000_000)
        {
            errors.Add(prefix + nameof(e.DisconnectAfterTokens), "Disconnect after must be between 0 and 1,000,000 tokens.");
        }
    }

    private static void Fraction(FieldErrors errors, string field, double value, string label)
    {
        if (!double.IsFinite(value) || value is < 0 or > 1)
        {
            errors.Add(field, $"{label} must be between 0 and 1.");
        }
    }

    /// <summary>
    /// Whether the deployment's GPUs hold the model's weights at 16 bits: parameters × 2 bytes against
    /// the GPUs' total memory. Returns a warning with the numbers when they do not, else null. KV cache
    /// and activations need more on top; quantized weights need less, so this warns rather than refuses.
    /// </summary>
    public static string? MemoryFitWarning(Model model, GpuType gpu, int gpuCount)
    {
        var weightsGiB = WeightsGiB16Bit(model.ParameterCountBillions);
        var totalGiB = gpu.MemoryGiB * gpuCount;
        if (weightsGiB <= totalGiB)
        {
            return null;
        }

        return $"{model.Name} needs {weightsGiB:0.#} GiB for its weights at 16 bits " +
               $"({model.ParameterCountBillions:0.##}B parameters × 2 bytes), but {gpuCount} × {gpu.Name} " +
               $"has {totalGiB:0.#} GiB. Use more GPUs, a larger GPU type, or a quantized model.";
    }

    /// <summary>Weights at 16 bits in GiB: billions of parameters × 2 bytes / 2^30.</summary>
    public static double WeightsGiB16Bit(double parameterCountBillions) =>
        parameterCountBillions * 1e9 * BytesPerParameter16Bit / (1024.0 * 1024.0 * 1024.0);

    private static void RequireName(FieldErrors errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(field, "Name is required.");
        }
        else if (value.Length > MaxNameLength)
        {
            errors.Add(field, $"Name must be at most {MaxNameLength} characters.");
        }
        else if (value.Trim() != value)
        {
            errors.Add(field, "Name must not start or end with spaces.");
        }
        else if (value.Any(char.IsControl))
        {
            errors.Add(field, "Name must not contain control characters.");
        }
    }

    private static void Positive(FieldErrors errors, string field, double value, string label, double max)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            errors.Add(field, $"{label} must be greater than 0.");
        }
        else if (value > max)
        {
            errors.Add(field, $"{label} must be at most {max:N0}.");
        }
    }

    private static void NonNegative(FieldErrors errors, string field, double value, string label, double max)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            errors.Add(field, $"{label} cannot be negative.");
        }
        else if (value > max)
        {
            errors.Add(field, $"{label} must be at most {max:N0}.");
        }
    }
}
