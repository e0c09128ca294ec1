pub mod copy_button;
pub mod countdown;
pub mod load_error;
