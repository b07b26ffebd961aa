// What list and status show: the model built once from the inventory (and Supabase's Management
// API), rendered as markdown, JSON and the HTML status page.
export { listAction, type ListOptions } from "./list";
export { statusAction, type StatusOptions } from "./status";
export { supabaseSettings, type SupabaseSettings } from "./supabase-api";
