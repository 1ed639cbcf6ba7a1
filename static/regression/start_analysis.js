// "Start analysis": a baseline is picked from the list or typed, not both — choosing one clears the other.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector('[data-testid="start-analysis-form"]');
  if (!form) return;
  const typed = form.querySelector('[data-testid="baseline-id"]');
  const radios = form.querySelectorAll('input[type="radio"][name="baseline"]');
  typed.addEventListener("input", () => {
    if (typed.value.trim()) radios.forEach((radio) => { radio.checked = false; });
  });
  radios.forEach((radio) => radio.addEventListener("change", () => { typed.value = ""; }));
});
