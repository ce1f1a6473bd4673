using Flare.Data.Registry;
using Flare.Routing.Registry;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Flare.Web.Components.Registry;

/// <summary>
/// A registry form: shows the store's verdict on the fields it names (and a banner for the rest), so
/// the UI and <c>/api</c> reject exactly the same input.
/// </summary>
public abstract class EditorBase<TView> : ComponentBase
{
    [Inject] protected RegistryStore Store { get; set; } = default!;
    [Inject] protected ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The item to edit; null to create a new one.</summary>
    [Parameter] public TView? Existing { get; set; }

    /// <summary>Called with true after a successful save, false on cancel.</summary>
    [Parameter] public EventCallback<bool> OnDone { get; set; }

    protected FieldErrors Errors { get; private set; } = new();
    protected string? Banner { get; private set; }
    protected bool Saving { get; private set; }
    protected bool IsNew => Existing is null;

    protected bool Has(string field) => Errors.For(field) is not null;
    protected string? Error(string field) => Errors.For(field);

    protected abstract Task<Outcome<TView>> SaveCoreAsync();

    protected abstract string Describe(TView saved);

    protected async Task SaveAsync()
    {
        Saving = true;
        try
        {
            var outcome = await SaveCoreAsync();
            if (outcome.IsOk)
            {
                Errors = new();
                Banner = null;
                Snackbar.Add($"Saved {Describe(outcome.Value!)}.", Severity.Success);
                foreach (var warning in outcome.Warnings)
                {
                    Snackbar.Add(warning, Severity.Warning, o => o.RequireInteraction = true);
                }

                await OnDone.InvokeAsync(true);
                return;
            }

            Errors = outcome.Errors;
            Banner = outcome.Kind == OutcomeKind.Invalid ? "Fix the highlighted fields." : outcome.Message;
        }
        finally
        {
            Saving = false;
        }
    }

    protected Task CancelAsync() => OnDone.InvokeAsync(false);
}
