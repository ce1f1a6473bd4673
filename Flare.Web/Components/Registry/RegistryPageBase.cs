using Flare.Data.Registry;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Flare.Web.Components.Registry;

/// <summary>
/// What every registry page does: load, reload when anything in the registry changes (another tab, the
/// API), open an editor in a dialog, and delete after a confirmation with the store's reason on refusal.
/// </summary>
public abstract class RegistryPageBase : ComponentBase, IDisposable
{
    [Inject] protected RegistryStore Store { get; set; } = default!;
    [Inject] protected RegistryChangeSignal Changes { get; set; } = default!;
    [Inject] protected IDialogService Dialogs { get; set; } = default!;
    [Inject] protected ISnackbar Snackbar { get; set; } = default!;

    protected bool Loading { get; private set; } = true;

    protected abstract Task LoadAsync();

    protected override async Task OnInitializedAsync()
    {
        Changes.Changed += OnRegistryChanged;
        await LoadAsync();
        Loading = false;
    }

    private void OnRegistryChanged() => _ = InvokeAsync(async () =>
    {
        await LoadAsync();
        StateHasChanged();
    });

    /// <summary>Opens <typeparamref name="TEditor"/> in a dialog; true when it saved.</summary>
    protected async Task<bool> OpenEditorAsync<TEditor>(string title, object? existing) where TEditor : IComponent
    {
        var parameters = new DialogParameters<EditorDialog>
        {
            { d => d.EditorType, typeof(TEditor) },
            { d => d.Existing, existing },
        };
        var dialog = await Dialogs.ShowAsync<EditorDialog>(title, parameters,
            new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, CloseOnEscapeKey = true });
        var result = await dialog.Result;
        if (result is { Canceled: false })
        {
            await LoadAsync();
            return true;
        }

        return false;
    }

    protected async Task DeleteAsync(string what, Func<Task<Outcome<bool>>> delete)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Delete {what}?", "This cannot be undone.", yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        var outcome = await delete();
        if (outcome.IsOk)
        {
            Snackbar.Add($"Deleted {what}.", Severity.Success);
            await LoadAsync();
        }
        else
        {
            Snackbar.Add(outcome.Message ?? $"Could not delete {what}.", Severity.Error, o => o.RequireInteraction = true);
        }
    }

    public void Dispose()
    {
        Changes.Changed -= OnRegistryChanged;
        GC.SuppressFinalize(this);
    }
}
