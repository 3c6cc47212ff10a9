// Display names of the treatment categories, shared by the dashboard's pages.
export const TREATMENT: Record<string, string> = {
  neurotoxin: "Neurotoxin", dermal_filler: "Dermal filler", laser_energy: "Laser / energy", iv_therapy: "IV therapy",
  glp1: "GLP-1", peptide: "Peptide", testosterone: "Testosterone",
};

export const tname = (t: string) => TREATMENT[t] || t;
